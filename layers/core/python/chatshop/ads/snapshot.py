"""The decision snapshot: every servable ad of the region, as the refresh built it, in one S3 object.

``ads/snapshot.json.gz`` in the ads bucket: gzipped JSON (never pickle: it is read from S3), with
the refresh's slot, the ads (campaign, creative products, bid, predicted CTRs, serve probability,
schedule, cap, words), the curated collections, and the pacing and click-rate state the next run
continues from. Decisions read it through :class:`SnapshotCache`, which asks S3 at most every few
seconds and re-reads the object only when its ETag changed (one 304 otherwise), as the search
snapshots are read.

Decoded, a snapshot is indexed for the decision: ads by (country, placement) sorted by their
context-free eCPM, and by word and by category prefix, so a decision looks at a few hundred
candidates, never all of the region's campaigns.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .ranking import Bid, segments

if TYPE_CHECKING:
    from botocore.client import BaseClient

FORMAT_VERSION = 1
SNAPSHOT_KEY = "ads/snapshot.json.gz"
CHECK_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class AdProduct:
    id: str
    title: str
    price: dict[str, Any]
    sale_price: dict[str, Any] | None
    image: str | None
    link: str | None
    category: str | None


@dataclass(slots=True)
class Ad:
    """One servable campaign, as decisions see it."""

    campaign_id: str
    shop_id: str
    shop_name: str
    objective: str
    placements: tuple[str, ...]
    countries: tuple[str, ...]
    headline: str
    products: tuple[AdProduct, ...]
    bid: Bid
    currency: str
    ctr: dict[str, float]
    serve_p: float
    start: float  # epoch seconds
    end: float | None
    cap: tuple[int, str] | None  # (impressions, window)
    words: dict[str, float]  # word -> idf weight
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    destination: str | None = None
    static_ecpm: dict[str, float] = field(default_factory=dict)
    paths: tuple[tuple[str, ...], ...] = ()  # the categories, split (see ranking.segments)
    vetted: bool = False  # whether the decision has taken special categories out of ``paths``

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "shop_id": self.shop_id,
            "shop_name": self.shop_name,
            "objective": self.objective,
            "placements": list(self.placements),
            "countries": list(self.countries),
            "headline": self.headline,
            "products": [
                [p.id, p.title, p.price, p.sale_price, p.image, p.link, p.category] for p in self.products
            ],
            "bid": [self.bid.model, self.bid.amount_minor, self.bid.exponent],
            "currency": self.currency,
            "ctr": self.ctr,
            "serve_p": round(self.serve_p, 6),
            "start": self.start,
            "end": self.end,
            "cap": list(self.cap) if self.cap else None,
            "words": self.words,
            "categories": list(self.categories),
            "keywords": list(self.keywords),
            "destination": self.destination,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ad:
        model, amount, exponent = data["bid"]
        ad = cls(
            campaign_id=data["campaign_id"],
            shop_id=data["shop_id"],
            shop_name=data["shop_name"],
            objective=data["objective"],
            placements=tuple(data["placements"]),
            countries=tuple(data["countries"]),
            headline=data["headline"],
            products=tuple(AdProduct(*p) for p in data["products"]),
            bid=Bid(model, amount, exponent),
            currency=data["currency"],
            ctr=dict(data["ctr"]),
            serve_p=float(data["serve_p"]),
            start=float(data["start"]),
            end=float(data["end"]) if data.get("end") is not None else None,
            cap=(int(data["cap"][0]), str(data["cap"][1])) if data.get("cap") else None,
            words=dict(data["words"]),
            categories=tuple(data["categories"]),
            keywords=tuple(data["keywords"]),
            destination=data.get("destination"),
        )
        ad.static_ecpm = {p: ad.bid.ecpm(ad.ctr.get(p, 0.0)) for p in ad.placements}
        return ad


@dataclass(frozen=True, slots=True)
class Collection:
    """A curated set from several shops' active campaigns: a hero product and more."""

    id: str
    country: str
    category: str | None
    title: str  # a key of the title kinds: "trending" or "under"
    kind: str
    price_limit: dict[str, Any] | None
    campaign_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "country": self.country,
            "category": self.category,
            "title": self.title,
            "kind": self.kind,
            "price_limit": self.price_limit,
            "campaign_ids": list(self.campaign_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Collection:
        return cls(
            id=data["id"],
            country=data["country"],
            category=data.get("category"),
            title=data["title"],
            kind=data["kind"],
            price_limit=data.get("price_limit"),
            campaign_ids=tuple(data["campaign_ids"]),
        )


class Snapshot:
    """A decoded snapshot with the indexes decisions use."""

    def __init__(
        self,
        *,
        slot: str,
        ads: list[Ad],
        collections: list[Collection] | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.slot = slot
        self.ads = {ad.campaign_id: ad for ad in ads}
        self.collections = list(collections or [])
        self.state = state or {}
        for ad in ads:
            ad.paths = tuple(_segments(c) for c in ad.categories)
        by_slot: dict[tuple[str, str], list[Ad]] = {}
        for ad in ads:
            for country in ad.countries:
                for placement in ad.placements:
                    by_slot.setdefault((country, placement), []).append(ad)
        # Every list best context-free eCPM first, so a decision can stop early or keep the best
        # few: the slot lists are sorted once, and the indexes filled from them in that order.
        words: dict[tuple[str, str], dict[str, list[Ad]]] = {}
        categories: dict[tuple[str, str], dict[tuple[str, ...], list[Ad]]] = {}
        exact: dict[tuple[str, str], dict[tuple[str, ...], list[Ad]]] = {}
        for key, listed in by_slot.items():
            placement = key[1]
            listed.sort(key=lambda ad, p=placement: ad.static_ecpm.get(p, 0.0), reverse=True)
            word_index = words.setdefault(key, {})
            category_index = categories.setdefault(key, {})
            exact_index = exact.setdefault(key, {})
            for ad in listed:
                for word in ad.words:
                    word_index.setdefault(word, []).append(ad)
                for path in ad.paths:
                    exact_index.setdefault(path, []).append(ad)
                    for depth in range(1, len(path) + 1):
                        category_index.setdefault(path[:depth], []).append(ad)
        self._by_slot = by_slot
        self._words = words
        self._categories = categories  # by every prefix of an ad's category: the ads at or below
        self._exact = exact  # by an ad's whole category: the ads above a deeper path
        self._by_product: dict[str, list[Ad]] = {}
        for ad in ads:
            for product in ad.products:
                self._by_product.setdefault(product.id, []).append(ad)
        self.collections_by_country: dict[str, list[Collection]] = {}
        for collection in self.collections:
            self.collections_by_country.setdefault(collection.country, []).append(collection)

    def ranked(self, country: str, placement: str) -> list[Ad]:
        """The ads of a country and placement, best context-free eCPM first."""
        return self._by_slot.get((country, placement), [])

    def with_word(self, country: str, placement: str, word: str) -> list[Ad]:
        return self._words.get((country, placement), {}).get(word, [])

    def in_category(self, country: str, placement: str, category: str) -> list[Ad]:
        """Ads whose categories are ``category`` or under it, or above it on its path."""
        segments = _segments(category)
        below = self._categories.get((country, placement), {}).get(segments, [])
        exact = self._exact.get((country, placement), {})
        above = [ad for depth in range(1, len(segments)) for ad in exact.get(segments[:depth], [])]
        if not above:
            return below
        found = {ad.campaign_id: ad for ad in (*below, *above)}
        return sorted(found.values(), key=lambda ad: ad.static_ecpm.get(placement, 0.0), reverse=True)

    def with_product(self, product_id: str) -> list[Ad]:
        return self._by_product.get(product_id, [])

    # --- bytes ---

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT_VERSION,
            "slot": self.slot,
            "ads": [ad.to_json() for ad in self.ads.values()],
            "collections": [c.to_json() for c in self.collections],
            "state": self.state,
        }
        return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), compresslevel=5)

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        document = json.loads(gzip.decompress(data))
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown ads snapshot format {document.get('format')!r}")
        return cls(
            slot=document["slot"],
            ads=[Ad.from_json(entry) for entry in document["ads"]],
            collections=[Collection.from_json(entry) for entry in document.get("collections", [])],
            state=document.get("state") or {},
        )


EMPTY = Snapshot(slot="", ads=[])


_segments = segments


class SnapshotBucket:
    """The snapshot object in the ads bucket, read and written by ETag."""

    def __init__(self, s3: BaseClient, bucket: str, key: str = SNAPSHOT_KEY) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.key = key

    def read(self, if_none_match: str | None = None) -> tuple[bytes, str] | None | bool:
        """(bytes, ETag); None when there is no snapshot; False when it is still ``if_none_match``."""
        from botocore.exceptions import ClientError

        options = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=self.key, **options)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 304 or code in ("304", "NotModified"):
                return False
            if code in ("NoSuchKey", "404"):
                return None
            raise
        with response["Body"] as body:
            return body.read(), response["ETag"]

    def write(self, data: bytes, if_match: str | None) -> str | None:
        """Write if the object is still ``if_match`` (None: if there is none yet); the new ETag, or
        None when another writer got there first."""
        from botocore.exceptions import ClientError

        condition = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"}
        try:
            response = self._s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=data, ContentType="application/json", **condition
            )
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = error.response.get("Error", {}).get("Code", "")
            if status in (409, 412) or code in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
                "NoSuchKey",
            ):
                return None
            raise
        return response["ETag"]


class SnapshotCache:
    """The latest snapshot, decoded once per ETag, checked at most every ``check_every_s``."""

    def __init__(
        self,
        bucket: SnapshotBucket,
        *,
        check_every_s: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bucket = bucket
        self._check_every_s = check_every_s
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._etag: str | None = None
        self._checked = -float("inf")
        self._lock = threading.Lock()

    def get(self) -> Snapshot:
        with self._lock:
            now = self._clock()
            if self._snapshot is None or now - self._checked >= self._check_every_s:
                self._checked = now
                found = self._bucket.read(self._etag if self._snapshot is not None else None)
                if found is None:
                    self._snapshot, self._etag = EMPTY, None
                elif found is not False:
                    data, etag = found  # type: ignore[misc]
                    self._snapshot, self._etag = Snapshot.from_bytes(data), etag
            assert self._snapshot is not None
            return self._snapshot
