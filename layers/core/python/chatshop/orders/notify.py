"""Telling a customer that their order changed, once per change, through the existing sender.

Each update is an outbound message whose id is the order id and the new status, stored with a
conditional write before it is queued: however often a change is reported (a retried request, a
replayed payment event), the customer hears of it once. Inside the customer's 24-hour window it
is free-form text; outside it, the shop's approved utility template ``order_update`` in the
customer's language (body parameters: the order number, then the status word), which Meta
delivers at any time. A shop without that template cannot reach a customer outside the window:
the update is left unsent and logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chatshop.assistant.i18n import Translator, default_language, supported, translator
from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.conversations import queue_reply
from chatshop.messaging.outbound import window_open
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.records import OutboundRecord
from chatshop.platform.observability import get_logger
from chatshop.shops.domain import Shop

from . import phrases
from .domain import Actor, Order, OrderStatus

ORDER_UPDATE = "order_update"
Told = Literal["text", "template", "no_template", "no_customer"]

_STATUS_WORDS: dict[OrderStatus, str] = {
    "pending_payment": phrases.STATUS_PENDING,
    "paid": phrases.STATUS_PAID,
    "shipped": phrases.STATUS_SHIPPED,
    "delivered": phrases.STATUS_DELIVERED,
    "cancelled": phrases.STATUS_CANCELLED,
    "refunded": phrases.STATUS_REFUNDED,
}
# Meta's template language codes for the assistant's languages.
_META_LANGUAGE = {"en": "en", "es": "es", "pt_BR": "pt_BR", "hi": "hi"}


def update_id(order: Order) -> str:
    """The outbound message id of an order's update: one per order and status."""
    return f"order-{order.id}-{order.status}"


def language_of(shop: Shop, order: Order) -> str:
    return supported(order.language) or supported(shop.language) or default_language(shop.country)


def update_text(t: Translator, shop: Shop, order: Order, by: Actor) -> str:
    total = t.money(order.total.amount, order.total.currency)
    if order.status == "paid":
        return t.text(phrases.ORDER_PAID, number=order.number, total=total)
    if order.status == "shipped":
        if order.tracking_url:
            return t.text(phrases.ORDER_SHIPPED_TRACKED, number=order.number, tracking_url=order.tracking_url)
        return t.text(phrases.ORDER_SHIPPED, number=order.number)
    if order.status == "delivered":
        return t.text(phrases.ORDER_DELIVERED, number=order.number)
    if order.status == "cancelled":
        if by == "expiry":
            return t.text(
                phrases.ORDER_EXPIRED, number=order.number, minutes=t.number(shop.reservation_minutes)
            )
        return t.text(phrases.ORDER_CANCELLED, number=order.number)
    if order.status == "refunded":
        return t.text(phrases.ORDER_REFUNDED, number=order.number, total=total)
    return t.text(_STATUS_WORDS[order.status])


def update_message(
    shop: Shop, order: Order, by: Actor, window_is_open: bool
) -> tuple[Told, dict[str, Any] | None]:
    """The message that tells the customer of the order's status, pure."""
    language = language_of(shop, order)
    t = translator(language, shop.country)
    if window_is_open:
        return "text", {"type": "text", "body": update_text(t, shop, order, by)}
    names = shop.templates.get(ORDER_UPDATE) or {}
    if language not in names:
        # The shop's English template rather than no word at all.
        language = "en"
    name = names.get(language)
    if not name:
        return "no_template", None
    word = translator(language, shop.country).text(_STATUS_WORDS[order.status])
    return "template", {
        "type": "template",
        "name": name,
        "language": _META_LANGUAGE[language],
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": order.number}, {"type": "text", "text": word}],
            }
        ],
    }


@dataclass(frozen=True)
class Notifier:
    conversations: ConversationStore
    outbox: OutboundQueue

    def order_changed(self, shop: Shop, order: Order, by: Actor, now: datetime | None = None) -> Told:
        if not order.customer_wa_id or not order.phone_number_id:
            return "no_customer"
        moment = now or order.updated_at
        last = self.conversations.last_inbound_at(order.phone_number_id, order.customer_wa_id)
        told, message = update_message(shop, order, by, window_open(last, moment))
        if message is None:
            get_logger().warning(
                "Order update not sent: outside the customer window and no order_update template",
                extra={"shop_id": shop.id, "order_id": order.id, "status": order.status},
            )
            return told
        record = OutboundRecord(
            id=update_id(order),
            shop_id=shop.id,
            phone_number_id=order.phone_number_id,
            to=order.customer_wa_id,
            message=message,
            created_at=moment,
        )
        queue_reply(self.conversations, self.outbox, record)
        return told
