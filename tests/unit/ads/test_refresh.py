"""The refresh over in-memory stores: slots run once, campaigns end, click counts fold in once,
out-of-stock products leave, special categories are never matched on, collections need four shops."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from chatshop.ads.campaign_store import Counters, StaleCampaign
from chatshop.ads.domain import Campaign
from chatshop.ads.refresh import run_refresh, slot_of
from chatshop.ads.snapshot import Snapshot
from chatshop.ads.users import is_special_category
from chatshop.shops.domain import Product

NOW = datetime(2026, 12, 2, 15, 2, tzinfo=UTC)


def product(
    pid: str, shop_id: str, *, availability="in stock", category="Outdoor > Tents", price=1999
) -> Product:
    return Product(
        id=pid,
        shop_id=shop_id,
        retailer_id=pid,
        title=f"Tent {pid}",
        price={"amount": price, "currency": "USD"},
        availability=availability,
        category=category,
        link=f"https://example.com/{pid}",
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def campaign(cid: str, shop_id: str, product_ids: list[str], **fields) -> Campaign:
    values = {
        "id": cid, "shop_id": shop_id, "name": "c", "objective": "traffic",
        "placements": ["marketplace_feed", "search"],
        "creative": {"product_ids": product_ids, "headline": "h"},
        "budget": {"period": "daily", "amount": {"amount": 5000, "currency": "USD"}},
        "bid": {"model": "cpc", "amount": {"amount": 40, "currency": "USD"}},
        "schedule": {"start": NOW - timedelta(days=1), "end": None, "timezone": "UTC"},
        "targeting": {"countries": ["US"]}, "status": "active", "version": 1,
        "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    values.update(fields)
    return Campaign.model_validate(values)


@dataclass
class Stores:
    campaigns: list[Campaign]
    products: dict[str, Product]
    counts: dict[str, Counters] = field(default_factory=dict)
    replaced: list[Campaign] = field(default_factory=list)

    def active(self):
        return [c for c in self.campaigns if c.status == "active"]

    def counters(self, ids, day, hour):
        return {cid: self.counts.get(cid, Counters()) for cid in ids}

    def replace(self, updated: Campaign, expected_version: int) -> None:
        for i, current in enumerate(self.campaigns):
            if current.id == updated.id:
                if current.version != expected_version:
                    raise StaleCampaign(updated.id)
                self.campaigns[i] = updated
                self.replaced.append(updated)

    def shop(self, shop_id):
        return SimpleNamespace(name=f"Shop {shop_id}", status="active")

    def products_of(self, shop_id, ids):
        return {pid: self.products[pid] for pid in ids if pid in self.products}


class Catalog:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    def shop(self, shop_id):
        return self.stores.shop(shop_id)

    def products(self, shop_id, ids):
        return self.stores.products_of(shop_id, ids)

    def chat_link(self, shop_id):
        return "https://wa.me/15550100000"


class Bucket:
    """The snapshot object with ETags and conditional writes, as S3 keeps it."""

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.version = 0

    def read(self, if_none_match=None):
        if self.data is None:
            return None
        return self.data, f'"{self.version}"'

    def write(self, data: bytes, if_match):
        if (self.data is None) != (if_match is None) or (if_match and if_match != f'"{self.version}"'):
            return None
        self.data, self.version = data, self.version + 1
        return f'"{self.version}"'


def refresh(stores: Stores, bucket: Bucket, now: datetime = NOW):
    return run_refresh(
        stores, Catalog(stores), bucket, now, live=lambda c: c == "US", is_special=is_special_category
    )


def snapshot(bucket: Bucket) -> Snapshot:
    return Snapshot.from_bytes(bucket.data)


def p(n: int) -> str:
    return f"p{n:031x}"


def test_a_slot_runs_once_and_the_next_slot_runs_again():
    stores = Stores([campaign("a" * 32, "s1", [p(1)])], {p(1): product(p(1), "s1")})
    bucket = Bucket()
    first = refresh(stores, bucket)
    assert not first.skipped and first.ads == 1 and first.slot == slot_of(NOW) == "2026-12-02T15:00"
    assert refresh(stores, bucket, NOW + timedelta(minutes=2)).skipped
    assert bucket.version == 1
    assert not refresh(stores, bucket, NOW + timedelta(minutes=5)).skipped
    assert bucket.version == 2


def test_campaigns_past_their_end_or_lifetime_budget_end_once():
    over = campaign(
        "b" * 32,
        "s1",
        [p(1)],
        schedule={"start": NOW - timedelta(days=2), "end": NOW - timedelta(hours=1), "timezone": "UTC"},
    )
    spent = campaign(
        "c" * 32, "s2", [p(2)], budget={"period": "lifetime", "amount": {"amount": 100, "currency": "USD"}}
    )
    stores = Stores([over, spent], {p(1): product(p(1), "s1"), p(2): product(p(2), "s2")})
    stores.counts[spent.id] = Counters(spent_lifetime=100_000)
    bucket = Bucket()
    result = refresh(stores, bucket)
    assert result.ended == 2 and result.ads == 0
    assert {(c.id, c.ended_reason) for c in stores.replaced} == {
        (over.id, "schedule_over"),
        (spent.id, "budget_spent"),
    }
    assert refresh(stores, bucket, NOW + timedelta(minutes=5)).ended == 0


def test_the_finished_hour_is_folded_into_click_counts_once():
    stores = Stores([campaign("a" * 32, "s1", [p(1)])], {p(1): product(p(1), "s1")})
    stores.counts["a" * 32] = Counters(impressions=1000, clicks=100)
    bucket = Bucket()
    refresh(stores, bucket)
    ctr_first = snapshot(bucket).ads["a" * 32].ctr["search"]
    refresh(stores, bucket, NOW + timedelta(minutes=5))  # the same finished hour: not counted again
    assert snapshot(bucket).state["ctr"]["a" * 32][:2] == [1000.0, 100.0]
    assert snapshot(bucket).ads["a" * 32].ctr["search"] == ctr_first > 0.03
    refresh(stores, bucket, NOW + timedelta(hours=1))  # the next hour, with the same counts again
    assert snapshot(bucket).state["ctr"]["a" * 32][0] == 1000 * 0.98 + 1000


def test_out_of_stock_products_leave_and_a_thin_collection_shows_its_first():
    ids = [p(1), p(2), p(3)]
    products = {
        p(1): product(p(1), "s1"),
        p(2): product(p(2), "s1", availability="out of stock"),
        p(3): product(p(3), "s1"),
    }
    stores = Stores([campaign("a" * 32, "s1", ids), campaign("d" * 32, "s2", [p(9)])], products)
    stores.products[p(9)] = product(p(9), "s2", availability="discontinued")
    bucket = Bucket()
    refresh(stores, bucket)
    ads = snapshot(bucket).ads
    assert [x.id for x in ads["a" * 32].products] == [p(1)]
    assert "d" * 32 not in ads


def test_a_special_category_is_left_out_of_what_an_ad_matches():
    targeting = {"countries": ["US"], "categories": ["Health > Vitamins"]}
    stores = Stores(
        [campaign("a" * 32, "s1", [p(1)], targeting=targeting)],
        {p(1): product(p(1), "s1", category="Health > Vitamins")},
    )
    bucket = Bucket()
    refresh(stores, bucket)
    ad = snapshot(bucket).ads["a" * 32]
    assert ad.categories == () and "health" not in ad.words and "vitamins" not in ad.words


def test_collections_need_four_shops():
    three = [campaign(f"{i:032x}", f"s{i}", [p(i)]) for i in range(1, 4)]
    products = {p(i): product(p(i), f"s{i}", price=1500) for i in range(1, 6)}
    bucket = Bucket()
    refresh(Stores(list(three), products), bucket)
    assert snapshot(bucket).collections == []
    four = [*three, campaign(f"{4:032x}", "s4", [p(4)])]
    bucket = Bucket()
    refresh(Stores(four, products), bucket)
    titles = {c.title for c in snapshot(bucket).collections}
    assert titles == {"Trending in Outdoor", "Under $25"}


def test_a_messages_campaign_opens_the_shops_chat():
    chat = campaign("a" * 32, "s1", [p(1)], objective="messages")
    stores = Stores(
        [chat, campaign("b" * 32, "s2", [p(2)])], {p(1): product(p(1), "s1"), p(2): product(p(2), "s2")}
    )
    bucket = Bucket()
    refresh(stores, bucket)
    ads = snapshot(bucket).ads
    assert ads["a" * 32].destination == "https://wa.me/15550100000"
    assert ads["b" * 32].destination is None


class Links:
    def __init__(self) -> None:
        self.ensured: list[tuple[str, str, str]] = []

    def ensure(self, campaign, chat, title, now):
        self.ensured.append((campaign.id, chat, title))


def test_a_messages_campaigns_link_is_registered_once_across_runs():
    chat = campaign("a" * 32, "s1", [p(1)], objective="messages")
    stores = Stores(
        [chat, campaign("b" * 32, "s2", [p(2)])], {p(1): product(p(1), "s1"), p(2): product(p(2), "s2")}
    )
    bucket, links = Bucket(), Links()
    for run in range(3):
        run_refresh(
            stores,
            Catalog(stores),
            bucket,
            NOW + timedelta(minutes=5 * run),
            live=lambda c: c == "US",
            is_special=is_special_category,
            chat_links=links,
        )
    # Only the messages campaign has a link, registered by the first run alone
    assert links.ensured == [("a" * 32, "https://wa.me/15550100000", f"Tent {p(1)}")]
    assert snapshot(bucket).state["links"] == ["a" * 32]


def test_an_older_formats_snapshot_is_replaced_and_its_state_starts_over():
    stores = Stores([campaign("a" * 32, "s1", [p(1)])], {p(1): product(p(1), "s1")})
    bucket = Bucket()
    # Click counts through the hour just past, which a readable snapshot's state would carry over.
    older = {
        "format": 1,
        "slot": "2026-12-02T14:55",
        "ads": [],
        "state": {"ctr": {"a" * 32: [500.0, 50.0, "2026-12-02T14"]}},
    }
    bucket.data = gzip.compress(json.dumps(older).encode())
    result = refresh(stores, bucket)
    assert not result.skipped and result.ads == 1 and bucket.version == 1
    written = snapshot(bucket)
    assert written.slot == slot_of(NOW) and list(written.ads) == ["a" * 32]
    assert written.state["ctr"]["a" * 32] == [0.0, 0.0, "2026-12-02T14"]
