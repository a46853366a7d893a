"""Reservation expiry: unpaid orders past their shop's ``reservation_minutes`` are cancelled, their
stock given back and their customer told; run every minute by a schedule.

Found without a scan: an order waiting for an online payment is in the sparse ``Expiring`` index
under the hour its reservation ends; the sweep reads the hours from ``LOOKBACK_HOURS`` ago to now.
Each cancel is conditional on the order still waiting for payment, so a paid order is never
released, however close its payment came to the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatshop.platform.observability import get_logger
from chatshop.shops.domain import Shop

from .lifecycle import IllegalTransition
from .order_store import expiry_bucket
from .service import Orders

# A sweep that could not run for a while still finds what expired in the last two days.
LOOKBACK_HOURS = 48


@dataclass(frozen=True)
class Swept:
    expired: int
    skipped: int


def buckets(now: datetime, lookback_hours: int = LOOKBACK_HOURS) -> list[str]:
    """The expiry hours a sweep at ``now`` reads, oldest first."""
    return [expiry_bucket(now - timedelta(hours=h)) for h in range(lookback_hours, -1, -1)]


def sweep(orders: Orders, shop_of: Callable[[str], Shop | None], now: datetime) -> Swept:
    expired = skipped = 0
    shops: dict[str, Shop | None] = {}
    for bucket in buckets(now):
        for shop_id, order_id in orders.store.expiring(bucket, now):
            if shop_id not in shops:
                shops[shop_id] = shop_of(shop_id)
            shop = shops[shop_id]
            order = orders.store.get(shop_id, order_id)
            if shop is None or order is None or order.status != "pending_payment":
                skipped += 1
                continue
            if order.expires_at is None or order.expires_at > now:
                skipped += 1
                continue
            try:
                orders.move(
                    shop, order_id, "cancelled", by="expiry", now=now, expected="pending_payment", order=order
                )
            except IllegalTransition:
                skipped += 1  # paid (or moved) in the moment between the read and the cancel
                continue
            expired += 1
    if expired or skipped:
        get_logger().info("Reservations swept", extra={"expired": expired, "skipped": skipped})
    return Swept(expired, skipped)
