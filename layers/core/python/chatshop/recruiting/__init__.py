"""Recruiting customers through the messenger: where a conversation came from (click-to-WhatsApp
ads and posts, the shop's wa.me links and QR codes), what its orders are credited to, who asked for
offers, and the offers (marketing templates) sent to them."""
