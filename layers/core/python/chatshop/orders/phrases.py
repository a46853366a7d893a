"""What a customer is told when their order changes, in English, as message ids of the catalogs.

Said through the assistant's catalogs (``chatshop.assistant.i18n``): free-form inside the customer's
24-hour window; outside it the shop's approved ``order_update`` template carries the order number
and the short status word below.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark for translation")
    return message


ORDER_PAID = N_("Payment received for order {number} ({total}). Thank you! We will tell you when it ships.")
ORDER_SHIPPED = N_("Good news: order {number} is on its way.")
ORDER_SHIPPED_TRACKED = N_("Good news: order {number} is on its way. Follow it here: {tracking_url}")
ORDER_DELIVERED = N_("Order {number} has been delivered. Enjoy, and thank you for shopping with us!")
ORDER_CANCELLED = N_("Order {number} has been cancelled by the shop.")
ORDER_EXPIRED = N_(
    "Order {number} was cancelled because it was not paid within {minutes} minutes, and its items "
    "went back on the shelf. You are welcome to order again."
)
ORDER_REFUNDED = N_("Order {number} has been refunded: {total}.")

# The status word of the order_update template's second parameter.
STATUS_PAID = N_("paid")
STATUS_SHIPPED = N_("shipped")
STATUS_DELIVERED = N_("delivered")
STATUS_CANCELLED = N_("cancelled")
STATUS_REFUNDED = N_("refunded")
STATUS_PENDING = N_("waiting for payment")
