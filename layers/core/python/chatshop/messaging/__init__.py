"""The messaging context: the WhatsApp channel, inbound webhooks and outbound messages."""
