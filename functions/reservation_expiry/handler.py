"""Reservation expiry (schedule, every minute): unpaid orders past their shop's reservation_minutes
are cancelled and their stock given back; see ``chatshop.orders.expiry``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.orders.expiry import sweep
from chatshop.orders.notify import Notifier
from chatshop.orders.order_store import OrderStore
from chatshop.orders.service import Orders
from chatshop.platform.config import load_settings
from chatshop.shops.shop_store import ShopStore

settings = load_settings()


@cache
def orders() -> Orders:
    return Orders(OrderStore(settings), Notifier(ConversationStore(settings), OutboundQueue(settings)))


@cache
def shops() -> ShopStore:
    return ShopStore(settings)


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    now = datetime.now(UTC)
    # A closed shop's unpaid orders still give their stock back.
    swept = sweep(orders(), lambda shop_id: shops().get(shop_id, include_deleted=True), now)
    return {"expired": swept.expired, "skipped": swept.skipped}
