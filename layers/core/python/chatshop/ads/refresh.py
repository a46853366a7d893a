"""The ad refresh (every five minutes): pacing, click rates, campaign ends, the decision snapshot
and the curated collections.

One run, for its five-minute **slot**:

1. reads the previous snapshot (with its ETag) and stops if it is already this slot's or a later
   one's: a repeated run, or one that started late behind another, changes nothing;
2. reads every active campaign of the region (the sparse index's shards), and each one's spend
   today and in all and its impressions and clicks in the hour just past (batch reads, no query per
   campaign), its shop and its products;
3. ends campaigns whose schedule is over or whose lifetime budget is spent (a conditional write on
   the campaign's version: a second run finds them ended already);
4. for the others: folds the finished hour into the decayed click counts (once: the state says
   which hour it holds), sets today's pacing probability (``pacing``), keeps only the products in
   stock, and builds the words the decision matches queries on;
5. builds the curated collections, and writes the snapshot *if the object is still the one it
   read* (S3 conditional write): of two overlapping runs only one lands; the other re-reads, finds
   the slot done and stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from chatshop.platform.concurrency import map_in_context
from chatshop.platform.iso import CURRENCY_EXPONENTS
from chatshop.search.lexical import tokens

from .campaign_store import Counters, StaleCampaign
from .campaigns import MILLI
from .chat_links import ChatLinks
from .collections import build_collections
from .domain import Campaign
from .pacing import PacingState, curve_for, day_budget, next_probability
from .ranking import Bid, decayed_counts, predicted_ctr
from .snapshot import Ad, AdProduct, Snapshot, SnapshotBucket

SLOT = timedelta(minutes=5)
AVAILABLE = frozenset({"in stock", "available for order", "preorder"})
PLACEMENTS = ("marketplace_feed", "search")
# A word that names the product weighs more than one the merchant only chose as a keyword.
TITLE_WEIGHT, KEYWORD_WEIGHT, CATEGORY_WEIGHT = 1.0, 0.8, 0.6
_WORKERS = 8


class Campaigns(Protocol):
    def active(self) -> list[Campaign]: ...

    def counters(self, campaign_ids: Sequence[str], day: Any, hour: datetime) -> dict[str, Counters]: ...

    def replace(self, campaign: Campaign, expected_version: int) -> None: ...


class Catalog(Protocol):
    def shop(self, shop_id: str) -> Any | None: ...

    def products(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Any]: ...

    def chat_link(self, shop_id: str) -> str | None:
        """``https://wa.me/<number>`` of the shop's connected WhatsApp number, if any."""
        ...


@dataclass(frozen=True)
class RefreshResult:
    slot: str
    skipped: bool
    ads: int = 0
    ended: int = 0
    collections: int = 0


def slot_of(now: datetime) -> str:
    moment = now.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0).strftime(
        "%Y-%m-%dT%H:%M"
    )


def run_refresh(
    campaigns: Campaigns,
    catalog: Catalog,
    bucket: SnapshotBucket,
    now: datetime,
    *,
    live: Callable[[str], bool],
    is_special: Callable[[str | None], bool],
    chat_links: ChatLinks | None = None,
) -> RefreshResult:
    slot = slot_of(now)
    for _ in range(3):
        previous, etag = _previous(bucket)
        if previous is not None and previous.slot >= slot:
            return RefreshResult(slot=slot, skipped=True)
        snapshot, ended = build_snapshot(
            campaigns, catalog, previous, now, slot, live=live, is_special=is_special, chat_links=chat_links
        )
        if bucket.write(snapshot.to_bytes(), if_match=etag) is not None:
            return RefreshResult(
                slot=slot,
                skipped=False,
                ads=len(snapshot.ads),
                ended=ended,
                collections=len(snapshot.collections),
            )
    return RefreshResult(slot=slot, skipped=True)


def _previous(bucket: SnapshotBucket) -> tuple[Snapshot | None, str | None]:
    found = bucket.read()
    if not found:
        return None, None
    data, etag = found  # type: ignore[misc]
    try:
        previous = Snapshot.from_bytes(data)
        previous.state  # noqa: B018 - parsed here, where a damaged one is caught, rather than when used
        return previous, etag
    except (ValueError, KeyError, TypeError, OSError):
        # An unreadable snapshot (an older format, damage) is replaced; pacing starts over.
        return None, etag


def build_snapshot(
    campaigns: Campaigns,
    catalog: Catalog,
    previous: Snapshot | None,
    now: datetime,
    slot: str,
    *,
    live: Callable[[str], bool],
    is_special: Callable[[str | None], bool],
    chat_links: ChatLinks | None = None,
) -> tuple[Snapshot, int]:
    now = now.astimezone(UTC)
    state = previous.state if previous is not None else {}
    pacing_state: dict[str, list[Any]] = state.get("pacing", {})
    ctr_state: dict[str, list[Any]] = state.get("ctr", {})
    linked: set[str] = set(state.get("links", []))
    last_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    active = campaigns.active()
    counters = campaigns.counters([c.id for c in active], now.date(), last_hour) if active else {}
    shops, products = _catalog(catalog, active)
    chats = {c.shop_id: catalog.chat_link(c.shop_id) for c in active if c.objective == "messages"}
    ended = 0
    entries: list[tuple[Campaign, list[AdProduct], Any]] = []
    new_pacing: dict[str, list[Any]] = {}
    new_ctr: dict[str, list[Any]] = {}
    for campaign in active:
        count = counters.get(campaign.id, Counters())
        reason = _ending(campaign, count, now)
        if reason is not None:
            ended += _end(campaigns, campaign, reason, now)
            continue
        new_ctr[campaign.id] = _ctr_state(ctr_state.get(campaign.id), count, last_hour)
        shop = shops.get(campaign.shop_id)
        countries = [c for c in campaign.targeting.countries if live(c)]
        if shop is None or getattr(shop, "status", "active") != "active" or not countries:
            continue
        budget_milli = campaign.budget.amount.amount * MILLI
        allowed = day_budget(
            campaign.budget.period,
            budget_milli,
            count.spent_lifetime,
            count.spent_today,
            campaign.schedule.end,
            now,
        )
        old = pacing_state.get(campaign.id)
        pacing = PacingState(*old) if old else PacingState()
        pacing = next_probability(
            pacing,
            day_budget=allowed,
            spent_today=count.spent_today,
            now=now,
            curve=curve_for(countries[0], now.date().isoformat()),
        )
        new_pacing[campaign.id] = [round(pacing.p, 6), pacing.spent_today, pacing.day]
        if pacing.p <= 0 or (campaign.schedule.start > now + SLOT):
            continue
        in_stock = [products[pid] for pid in campaign.creative.product_ids if pid in products]
        if not in_stock:
            continue
        if len(campaign.creative.product_ids) > 1 and len(in_stock) < 3:
            in_stock = in_stock[:1]  # too few left for a collection: the first still in stock alone
        chat = chats.get(campaign.shop_id)
        if chat and chat_links is not None and campaign.id not in linked:
            chat_links.ensure(campaign, chat, in_stock[0].title, now)
            linked.add(campaign.id)
        entries.append((campaign, in_stock, (shop, countries, pacing.p, chat)))
    ads = _ads(entries, new_ctr, is_special)
    collections = build_collections(ads, is_special)
    snapshot = Snapshot(
        slot=slot,
        ads=ads,
        collections=collections,
        state={
            "pacing": new_pacing,
            "ctr": new_ctr,
            # Messages campaigns whose link is registered (chatshop.ads.chat_links): once each.
            "links": sorted(linked & {c.id for c in active}),
        },
    )
    return snapshot, ended


def _ending(campaign: Campaign, count: Counters, now: datetime) -> str | None:
    if campaign.schedule.end is not None and campaign.schedule.end <= now:
        return "schedule_over"
    if campaign.budget.period == "lifetime" and count.spent_lifetime >= campaign.budget.amount.amount * MILLI:
        return "budget_spent"
    return None


def _end(campaigns: Campaigns, campaign: Campaign, reason: str, now: datetime) -> int:
    ended = campaign.model_copy(
        update={"status": "ended", "ended_reason": reason, "version": campaign.version + 1, "updated_at": now}
    )
    try:
        campaigns.replace(ended, expected_version=campaign.version)
    except StaleCampaign:
        return 0  # changed meanwhile (by its merchant, or another run): the next run looks again
    return 1


def _ctr_state(old: list[Any] | None, count: Counters, last_hour: datetime) -> list[Any]:
    """[impressions, clicks, the last hour folded in], the finished hour folded in exactly once."""
    hour = last_hour.strftime("%Y-%m-%dT%H")
    if old is None:
        return [float(count.impressions), float(count.clicks), hour]
    impressions, clicks, through = old
    if through >= hour:
        return old
    gap = max(
        int((last_hour - datetime.strptime(through + "+0000", "%Y-%m-%dT%H%z")).total_seconds() // 3600), 1
    )
    impressions, clicks = decayed_counts(impressions, clicks, gap, count.impressions, count.clicks)
    return [round(impressions, 3), round(clicks, 3), hour]


def _catalog(catalog: Catalog, active: list[Campaign]) -> tuple[dict[str, Any], dict[str, AdProduct]]:
    wanted: dict[str, set[str]] = {}
    for campaign in active:
        wanted.setdefault(campaign.shop_id, set()).update(campaign.creative.product_ids)

    def read(shop_id: str) -> tuple[str, Any, dict[str, Any]]:
        return shop_id, catalog.shop(shop_id), catalog.products(shop_id, sorted(wanted[shop_id]))

    shops: dict[str, Any] = {}
    products: dict[str, AdProduct] = {}
    for shop_id, shop, found in map_in_context(read, wanted, _WORKERS):
        shops[shop_id] = shop
        for product_id, product in found.items():
            if product.availability in AVAILABLE and product.inventory != 0:
                products[product_id] = _ad_product(product)
    return shops, products


def _ad_product(product: Any) -> AdProduct:
    return AdProduct(
        id=product.id,
        title=product.title,
        price={"amount": product.price.amount, "currency": product.price.currency},
        sale_price=(
            {"amount": product.sale_price.amount, "currency": product.sale_price.currency}
            if product.sale_price
            else None
        ),
        image=product.image_link,
        link=product.link,
        category=product.category,
    )


@lru_cache(maxsize=65536)
def _words_of(text: str) -> tuple[str, ...]:
    """The words of a keyword or a category, which many campaigns share."""
    return tuple(tokens(text))


def _ads(
    entries: list[tuple[Campaign, list[AdProduct], Any]],
    ctr_state: dict[str, list[Any]],
    is_special: Callable[[str | None], bool],
) -> list[Ad]:
    """The snapshot's ads. A special category (health, religion ...) is left out of what an ad is
    matched on, its words included: it is never targeted (DSA Art. 26(3))."""
    raw: list[tuple[Campaign, list[AdProduct], Any, dict[str, float], list[str]]] = []
    document_frequency: dict[str, int] = {}
    for campaign, in_stock, extra in entries:
        weights: dict[str, float] = {}
        for product in in_stock:
            for word in tokens(product.title):
                weights[word] = max(weights.get(word, 0.0), TITLE_WEIGHT)
        for keyword in campaign.targeting.keywords:
            for word in _words_of(keyword):
                weights[word] = max(weights.get(word, 0.0), KEYWORD_WEIGHT)
        categories = [c for c in _categories(campaign, in_stock) if not is_special(c)]
        for category in categories:
            for word in _words_of(category):
                weights[word] = max(weights.get(word, 0.0), CATEGORY_WEIGHT)
        for word in weights:
            document_frequency[word] = document_frequency.get(word, 0) + 1
        raw.append((campaign, in_stock, extra, weights, categories))
    total = max(len(raw), 1)
    ads = []
    for campaign, in_stock, (shop, countries, p, chat), weights, categories in raw:
        impressions, clicks, _ = ctr_state.get(campaign.id, [0.0, 0.0, ""])
        exponent = CURRENCY_EXPONENTS.get(campaign.currency, 2)
        words = {
            w: round(weight * math.log(1 + total / document_frequency[w]), 4) for w, weight in weights.items()
        }
        ad = Ad(
            campaign_id=campaign.id,
            shop_id=campaign.shop_id,
            shop_name=shop.name,
            objective=campaign.objective,
            placements=tuple(campaign.placements),
            countries=tuple(countries),
            headline=campaign.creative.headline,
            products=tuple(in_stock),
            bid=Bid(campaign.bid.model, campaign.bid.amount.amount, exponent),
            currency=campaign.currency,
            ctr={p_: round(predicted_ctr(clicks, impressions, p_), 6) for p_ in campaign.placements},
            serve_p=p,
            start=campaign.schedule.start.timestamp(),
            end=campaign.schedule.end.timestamp() if campaign.schedule.end else None,
            cap=(campaign.frequency_cap.impressions, campaign.frequency_cap.window)
            if campaign.frequency_cap
            else None,
            words=words,
            categories=tuple(categories),
            keywords=tuple(campaign.targeting.keywords),
            destination=chat,
        )
        ad.static_ecpm = {p_: ad.bid.ecpm(ad.ctr.get(p_, 0.0)) for p_ in ad.placements}
        ads.append(ad)
    return ads


def _categories(campaign: Campaign, in_stock: list[AdProduct]) -> list[str]:
    found = dict.fromkeys(campaign.targeting.categories)
    for product in in_stock:
        if product.category:
            found.setdefault(product.category)
    return list(found)


class StoreCatalog:
    """:class:`Catalog` over the shops context's stores."""

    def __init__(self, shops: Any, products: Any, channels: Any | None = None) -> None:
        self._shops = shops
        self._products = products
        self._channels = channels  # None where shopping in the chat is not deployed

    def shop(self, shop_id: str) -> Any | None:
        return self._shops.get(shop_id)

    def products(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Any]:
        return {pid: stored.product for pid, stored in self._products.get_many(shop_id, product_ids).items()}

    def chat_link(self, shop_id: str) -> str | None:
        channel = self._channels.for_shop(shop_id) if self._channels is not None else None
        digits = "".join(ch for ch in channel.display_phone_number if ch.isdigit()) if channel else ""
        return f"https://wa.me/{digits}" if digits else None
