"""The decision snapshot's bytes: a decoded snapshot answers as the one built in memory and as
indexes built the straightforward way over all ads; an older or damaged object is refused."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime

import pytest

from chatshop.ads.collections import build_collections
from chatshop.ads.decision_models import DecisionRequest
from chatshop.ads.decisions import DecisionInputs, curated_collection, decide
from chatshop.ads.ranking import Bid, segments
from chatshop.ads.snapshot import Ad, AdProduct, Snapshot, SnapshotCache
from chatshop.ads.users import is_special_category

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WORDS = [f"w{i}" for i in range(30)]
CATEGORIES = [
    "Shoes",
    "Shoes > Boots",
    "Shoes > Boots > Winter",
    "Home",
    "Home > Kitchen",
    "Outdoor > Tents",
    "Health > Vitamins",
]
COUNTRIES = ["US", "DE", "BR"]
PLACEMENTS = ["marketplace_feed", "search"]


def make_ads(count: int, seed: int = 3) -> list[Ad]:
    """Ads of three countries, one or both placements, a few bids and click rates (so many eCPMs
    tie), some capped, some scheduled to end, some throttled, products shared by a few."""
    rng = random.Random(seed)
    ads = []
    for i in range(count):
        placements = tuple(rng.choice([PLACEMENTS[:1], PLACEMENTS[1:], PLACEMENTS]))
        categories = tuple(rng.sample(CATEGORIES, rng.randint(0, 2)))
        products = tuple(
            AdProduct(
                id=f"p{rng.randrange(count * 2):031x}",
                title=" ".join(rng.sample(WORDS, 3)),
                price={"amount": rng.choice([999, 2500, 7000]), "currency": "USD"},
                sale_price={"amount": 899, "currency": "USD"} if rng.random() < 0.2 else None,
                image=None,
                link=f"https://example.com/{i}/{k}",
                category=categories[0] if categories else None,
            )
            for k in range(rng.choice([1, 1, 3]))
        )
        ad = Ad(
            campaign_id=f"{i:032x}",
            shop_id=f"s{rng.randrange(count // 3 + 1)}",
            shop_name="Shop",
            objective=rng.choice(["traffic", "messages"]),
            placements=placements,
            countries=tuple(rng.sample(COUNTRIES, rng.randint(1, 2))),
            headline=f"Headline {i}",
            products=products,
            bid=Bid(rng.choice(["cpc", "cpm"]), rng.choice([20, 50, 400]), 2),
            currency="USD",
            ctr={p: rng.choice([0.01, 0.02, 0.035]) for p in placements},
            serve_p=rng.choice([1.0, 1.0, 0.5]),
            start=0.0,
            end=rng.choice([None, NOW.timestamp() - 60, NOW.timestamp() + 3600]),
            cap=rng.choice([None, (3, "day")]),
            words={w: round(rng.uniform(0.5, 6.0), 4) for w in rng.sample(WORDS, 5)},
            categories=categories,
            keywords=tuple(rng.sample(WORDS, 1)),
            destination="https://wa.me/15550100000" if rng.random() < 0.3 else None,
        )
        ad.static_ecpm = {p: ad.bid.ecpm(ad.ctr[p]) for p in placements}
        ads.append(ad)
    return ads


class StraightIndexes:
    """Every index built eagerly over Ad objects, each list sorted by eCPM: what decisions asked of
    a snapshot before it was stored with its indexes."""

    def __init__(self, ads: list[Ad], collections) -> None:
        self.ads = {ad.campaign_id: ad for ad in ads}
        self.collections_by_country: dict = {}
        for collection in collections:
            self.collections_by_country.setdefault(collection.country, []).append(collection)
        self.by_slot: dict = {}
        for ad in ads:
            ad.paths = tuple(segments(c) for c in ad.categories)
            for country in ad.countries:
                for placement in ad.placements:
                    self.by_slot.setdefault((country, placement), []).append(ad)
        for (_, placement), listed in self.by_slot.items():
            listed.sort(key=lambda ad, p=placement: ad.static_ecpm.get(p, 0.0), reverse=True)

        self.paths = {ad.campaign_id: ad.paths for ad in ads}  # as indexed: decisions vet ads later

    def ranked(self, country, placement):
        return self.by_slot.get((country, placement), [])

    def with_word(self, country, placement, word):
        return [ad for ad in self.ranked(country, placement) if word in ad.words]

    def in_category(self, country, placement, category):
        """At or below the category, best first; with those exactly at a category above it on its
        path, if any, merged into one list by eCPM."""
        path = segments(category)
        listed = self.ranked(country, placement)
        # An ad is listed once for each of its categories that matches.
        below = [ad for ad in listed for p in self.paths[ad.campaign_id] if p[: len(path)] == path]
        above = [
            ad
            for depth in range(1, len(path))
            for ad in listed
            for p in self.paths[ad.campaign_id]
            if p == path[:depth]
        ]
        if not above:
            return below
        merged = {ad.campaign_id: ad for ad in (*below, *above)}
        return sorted(merged.values(), key=lambda ad: ad.static_ecpm.get(placement, 0.0), reverse=True)

    def with_product(self, product_id):
        return [ad for ad in self.ads.values() if any(p.id == product_id for p in ad.products)]


def ids(ads) -> list[str]:
    return [ad.campaign_id for ad in ads]


def snapshots(count: int = 300):
    """The same ads built in memory, decoded from its bytes, and indexed straightforwardly."""
    ads = make_ads(count)
    collections = build_collections(ads, is_special_category)
    memory = Snapshot(slot="2026-12-02T12:00", ads=ads, collections=collections, state={"pacing": {}})
    decoded = Snapshot.from_bytes(memory.to_bytes())
    return memory, decoded, StraightIndexes(make_ads(count), collections)


def test_a_decoded_snapshot_holds_the_same_ads_collections_and_state():
    memory, decoded, _ = snapshots()
    assert decoded.slot == memory.slot
    assert list(decoded.ads) == list(memory.ads)
    assert all(decoded.ads[cid] == ad for cid, ad in memory.ads.items())
    assert decoded.collections == memory.collections and decoded.collections
    assert decoded.collections_by_country == memory.collections_by_country
    assert decoded.state == memory.state
    # Decoded again from the decoded one, lines not yet parsed included: the same bytes.
    assert Snapshot.from_bytes(decoded.to_bytes()).to_bytes() == memory.to_bytes()


def test_every_index_lists_the_same_ads_in_the_same_order_as_the_straight_ones():
    memory, decoded, straight = snapshots()
    paths = [*CATEGORIES, "Shoes > Boots > Winter > Wool", "Home > Garden", "Nothing"]
    for country in [*COUNTRIES, "FR"]:
        for placement in PLACEMENTS:
            expected = ids(straight.ranked(country, placement))
            assert ids(memory.ranked(country, placement)) == expected
            assert ids(decoded.ranked(country, placement)) == expected
            assert ids(decoded.ranked(country, placement)[:7]) == expected[:7]
            for word in [*WORDS, "unknown"]:
                expected = ids(straight.with_word(country, placement, word))
                assert ids(memory.with_word(country, placement, word)) == expected
                assert ids(decoded.with_word(country, placement, word)) == expected
            for category in paths:
                expected = ids(straight.in_category(country, placement, category))
                assert ids(memory.in_category(country, placement, category)) == expected
                assert ids(decoded.in_category(country, placement, category)) == expected
    for product_id in {p.id for ad in memory.ads.values() for p in ad.products}:
        expected = ids(straight.with_product(product_id))
        assert ids(memory.with_product(product_id)) == expected == ids(decoded.with_product(product_id))


def _requests(rng: random.Random, count: int):
    for i in range(count):
        roll = rng.random()
        context: dict = {}
        kind = rng.choice(PLACEMENTS)
        if roll < 0.3:
            context = {"query": " ".join(rng.sample(WORDS, rng.randint(1, 3)))}
        elif roll < 0.6:
            context = {"category": rng.choice([*CATEGORIES, "Shoes > Boots > Winter > Wool"])}
        placement = {"id": "p", "type": kind, "count": rng.choice([1, 2, 3]), "context": context}
        key = f"user-{i:012d}-snap" if rng.random() < 0.7 else None
        user = {"country": rng.choice(COUNTRIES), "key": key}
        yield DecisionRequest(placements=[placement], user=user)


class User:
    def __init__(self, personalised: bool, affinities: dict[str, float]) -> None:
        self.personalised = personalised
        self.minor = False
        self.affinities = affinities

    def impressions(self, campaign_id: str, window: str) -> int:
        return int(campaign_id[-1], 16) % 4  # some capped ads reached their cap, some not


def _answers(snapshot, seed: int = 11) -> list:
    rng = random.Random(seed)
    out = []
    for i, request in enumerate(_requests(rng, 150)):
        signed: list[dict] = []

        def sign(signed: list[dict] = signed, **claim) -> str:
            claim.pop("decision_id")
            signed.append(claim)
            return f"t{len(signed)}"

        user = User(i % 2 == 0, {c.lower(): rng.random() for c in rng.sample(CATEGORIES, 2)})
        semantic = (
            {p.id: 0.5 + rng.random() / 2 for p in snapshot.ads[rng.choice(list(snapshot.ads))].products}
            if i % 5 == 0
            else None
        )
        inputs = DecisionInputs(
            snapshot=snapshot,
            user=user,
            exhausted=frozenset({f"{7:032x}"}),
            now=NOW,
            sign=sign,
            event_url=lambda token: f"https://api.example/ads/events/{token}",
            is_special=is_special_category,
            semantic=semantic,
            own_shop="s1" if i % 17 == 0 else None,
            rng=random.Random(i),
        )
        response = decide(request, inputs)
        collection = curated_collection(request.user.country, inputs, "d", request.user.key)
        out.append(
            (
                response.model_dump(exclude={"decision_id"}),
                collection.model_dump() if collection else None,
                signed,
            )
        )
    return out


def test_decisions_over_a_decoded_snapshot_are_those_over_the_straight_indexes():
    memory, decoded, straight = snapshots()
    expected = _answers(straight)
    assert sum(len(placement["ads"]) for answer, _, _ in expected for placement in answer["placements"]) > 100
    assert any(collection for _, collection, _ in expected)
    assert _answers(memory) == expected
    assert _answers(decoded) == expected


def test_an_empty_snapshot_round_trips():
    empty = Snapshot.from_bytes(Snapshot(slot="s", ads=[]).to_bytes())
    assert empty.slot == "s" and len(empty.ads) == 0 and empty.state == {}
    assert list(empty.ranked("US", "search")) == [] and list(empty.with_product("p1")) == []


def _format_one(ads: list[Ad]) -> bytes:
    """An object as the first format wrote it: one gzipped JSON document."""
    document = {"format": 1, "slot": "2026-12-02T11:55", "ads": [{"campaign_id": a.campaign_id} for a in ads]}
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode())


@pytest.mark.parametrize("count", [2, 30_000])  # one small enough to parse, one that is not parsed
def test_an_older_format_is_refused(count):
    with pytest.raises(ValueError, match="format 1|format None"):
        Snapshot.from_bytes(_format_one(make_ads(2) * (count // 2)))


def test_a_damaged_snapshot_is_refused():
    data = gzip.decompress(Snapshot(slot="s", ads=make_ads(5)).to_bytes())
    cut = gzip.compress(data[: data.rindex(b"\n")])  # its last ad lost
    with pytest.raises(ValueError, match="damaged"):
        Snapshot.from_bytes(cut)


class OneObject:
    """The snapshot's object as S3 answers for it: bytes and an ETag, 304 on a match."""

    def __init__(self, data: bytes) -> None:
        self.data, self.reads = data, 0

    def read(self, if_none_match=None):
        self.reads += 1
        etag = f'"{hash(self.data)}"'
        return False if if_none_match == etag else (self.data, etag)


def test_the_cache_decodes_once_per_etag_and_refuses_an_older_format():
    memory, _, _ = snapshots(40)
    bucket = OneObject(memory.to_bytes())
    clock = [0.0]
    cache = SnapshotCache(bucket, check_every_s=5, clock=lambda: clock[0])  # type: ignore[arg-type]
    first = cache.get()
    assert ids(first.ranked("US", "search")) == ids(memory.ranked("US", "search"))
    clock[0] = 6.0
    assert cache.get() is first and bucket.reads == 2  # unchanged: the decoded one is kept
    bucket.data = _format_one(make_ads(2))
    clock[0] = 12.0
    with pytest.raises(ValueError):  # until the refresh replaces it, as before
        cache.get()
