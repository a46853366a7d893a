"""Where a shop's customers come from, in figures: conversations started, orders credited and their
revenue, per source (an ad, a post, a link, organic).

Conversations are counted by recruiting when they start (:func:`count_conversation`, idempotent),
per shop, source and day. Orders are read from the orders context's query of the shop's orders by
the time they were placed: each order keeps what it was credited to (its ``attribution``, the
conversation's source within the shop's attribution window, else organic), so the report needs no
counter of its own for them, and an order cancelled or refunded does not count.

A day is the shop's own (its time zone), so a report from one date to another reads as the merchant
counts. Neither read scans a table: both are queries of the shop's own partitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chatshop.platform.errors import ValidationFailed
from chatshop.shops.domain import Shop

from .acquisition_store import AcquisitionStore
from .domain import Acquisition, SourceFigures
from .sources import Source

DEFAULT_DAYS = 30
_EARLIEST = date(1970, 1, 1)
_LATEST = date(9998, 12, 31)
# Orders that did not turn into a sale are not credited to anything.
_NOT_SALES = frozenset({"cancelled", "refunded"})


class PlacedOrders(Protocol):
    def placed_between(self, shop_id: str, start: datetime, end: datetime) -> Sequence[Any]:
        """The shop's orders placed in [start, end): each with ``status``, ``total`` (Money) and
        ``attribution`` (the source dict it was credited to)."""


def shop_day(shop: Shop, at: datetime) -> date:
    return at.astimezone(ZoneInfo(shop.timezone)).date()


def count_conversation(
    store: AcquisitionStore, shop: Shop, conversation_key: str, source: Source, started_at: datetime
) -> bool:
    """A new conversation, counted once for its source on the shop's day it started."""
    return store.count_conversation(shop.id, conversation_key, source, shop_day(shop, started_at))


def report_range(raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """``?from=&to=`` as dates (both included); the last 30 days by default. A ``from`` after ``to``
    is an empty range: its report has no figures."""
    # An empty value is not an absent one: "?to=" names no date and is refused.
    last = _date("to", raw_to) if raw_to is not None else today
    first = _date("from", raw_from) if raw_from is not None else last - timedelta(days=DEFAULT_DAYS - 1)
    return first, last


def report(store: AcquisitionStore, orders: PlacedOrders, shop: Shop, first: date, last: date) -> Acquisition:
    totals: dict[str, dict[str, Any]] = {}
    if first > last:
        return Acquisition(shop_id=shop.id, from_=first, to=last, sources=[])

    def figures(source: str, kind: str) -> dict[str, Any]:
        return totals.setdefault(
            source, {"source": source, "kind": kind, "conversations": 0, "orders": 0, "revenue": {}}
        )

    for day in store.days(shop.id, first, last):
        figures(day["source"], day["kind"])["conversations"] += day["conversations"]
    zone = ZoneInfo(shop.timezone)
    # Clamped where time zones and datetimes end (year 1 and 9999 are valid dates); no order is there.
    start = datetime.combine(max(first, _EARLIEST), time.min, zone).astimezone(UTC)
    end = datetime.combine(min(last, _LATEST) + timedelta(days=1), time.min, zone).astimezone(UTC)
    for order in orders.placed_between(shop.id, start, end):
        if order.status in _NOT_SALES:
            continue
        credited = Source.of(order.attribution)
        row = figures(credited.key, credited.kind)
        row["orders"] += 1
        currency = order.total.currency
        row["revenue"][currency] = row["revenue"].get(currency, 0) + order.total.amount
    sources = sorted(
        (SourceFigures(**row) for row in totals.values()),
        key=lambda f: (-f.orders, -f.conversations, f.source),
    )
    return Acquisition(shop_id=shop.id, from_=first, to=last, sources=sources)


def _date(name: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed([name], f"{name} must be a date such as 2026-01-31.") from None
