"""Click-to-WhatsApp conversions to Meta: a ``Purchase`` through the Conversions API for business
messaging, so Meta can credit the order to the ad that opened the chat and optimise for it.

``POST /{dataset_id}/events`` with ``action_source: business_messaging``, ``messaging_channel:
whatsapp`` and ``user_data: {whatsapp_business_account_id, ctwa_clid}``; the ``ctwa_clid`` is the
click id the referral of the customer's first message carried (none: nothing to send). The order
id is the ``event_id``, so a retried send is one conversion at Meta. No name, number or email goes
out: the click id is the only link to the customer.

Meta accepts events up to 7 days after they happened; an older order is not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from babel.numbers import get_currency_precision

from chatshop.messaging.graph_client import GraphAnswer, GraphClient

__all__ = ["CONVERSION_WINDOW", "CtwaPurchase", "ctwa_purchase", "purchase_event", "send_purchase"]

CONVERSION_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CtwaPurchase:
    order_id: str
    ctwa_clid: str
    waba_id: str
    total_minor: int
    currency: str
    ordered_at: datetime


class _Money(Protocol):
    amount: int
    currency: str


class CreditedOrder(Protocol):
    """What the conversion needs of an order (``chatshop.orders.domain.Order`` is one)."""

    id: str
    total: _Money
    attribution: dict[str, Any]
    placed_at: datetime


def ctwa_purchase(order: CreditedOrder, waba_id: str) -> CtwaPurchase | None:
    """The order's purchase for Meta when it is credited to a click-to-WhatsApp ad with a click id
    (the order's ``attribution`` is the conversation's source); None for any other order."""
    source = order.attribution or {}
    clid = source.get("ctwa_clid")
    if source.get("kind") != "ad" or not isinstance(clid, str) or not clid:
        return None
    return CtwaPurchase(
        order_id=order.id,
        ctwa_clid=clid,
        waba_id=waba_id,
        total_minor=order.total.amount,
        currency=order.total.currency,
        ordered_at=order.placed_at,
    )


def purchase_event(purchase: CtwaPurchase) -> dict[str, Any]:
    """The ``Purchase`` event of one order, as the Conversions API takes it."""
    value = Decimal(purchase.total_minor).scaleb(-get_currency_precision(purchase.currency))
    return {
        "event_name": "Purchase",
        "event_time": int(purchase.ordered_at.timestamp()),
        "event_id": purchase.order_id,
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"whatsapp_business_account_id": purchase.waba_id, "ctwa_clid": purchase.ctwa_clid},
        "custom_data": {"currency": purchase.currency, "value": float(value)},
    }


def send_purchase(
    graph: GraphClient, dataset_id: str, token: str, purchase: CtwaPurchase, now: datetime | None = None
) -> GraphAnswer | None:
    """Send the order's ``Purchase``; None when there is nothing Meta would take (too old)."""
    now = now or datetime.now(UTC)
    if now - purchase.ordered_at > CONVERSION_WINDOW:
        return None
    return graph.send_events(dataset_id, token, [purchase_event(purchase)])
