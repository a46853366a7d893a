"""The abandoned-cart reminder's scheduled half: carts due, found in the sparse CartReminders index,
handed to the inbound queue in their conversation's group, where the inbound worker (the state's
only writer) decides, in order with the customer's messages, whether the reminder still goes.

Handing it over twice is harmless: the unit is deduplicated by the queue for five minutes, and the
worker reminds a cart at most once (its handled ids and the cart's ``reminded`` flag).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from chatshop.messaging.outbound import CUSTOMER_WINDOW

from .state_store import DueCart
from .units import CART_REMINDER


class DueCarts(Protocol):
    def due(self, now: datetime, lookback: timedelta) -> list[DueCart]: ...


class Inbound(Protocol):
    def send(self, phone_number_id: str, customer: str, dedup_id: str, body: dict) -> None: ...


def queue_due(index: DueCarts, inbound: Inbound, now: datetime) -> int:
    """Every cart due by ``now`` (and not older than the customer window, past which no reminder
    may go) handed to the inbound queue; how many."""
    due = index.due(now, CUSTOMER_WINDOW)
    for cart in due:
        body = {
            "kind": CART_REMINDER,
            "phone_number_id": cart.phone_number_id,
            "customer": cart.customer,
            "cart_id": cart.cart_id,
            "due": cart.due.isoformat(),
        }
        inbound.send(cart.phone_number_id, cart.customer, f"cart-reminder-{cart.cart_id}", body)
    return len(due)
