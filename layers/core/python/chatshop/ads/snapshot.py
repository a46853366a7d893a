"""The decision snapshot: every servable ad of the region, as the refresh built it, in one S3 object.

``ads/snapshot.json.gz`` in the ads bucket: gzipped lines of JSON (never pickle: it is read from S3).
The first line is the header (format, the refresh's slot, how many ads, which country and placement
indexes follow); then the campaign ids, the curated collections, the pacing and click-rate state the
next run continues from, the index by product, the context-free eCPMs, one line per (country,
placement) index, and one line per ad (campaign, creative products, bid, predicted CTRs, serve
probability, schedule, cap, words), each a JSON array of its fields. Decisions read it through
:class:`SnapshotCache`, which asks S3 at most every few seconds and re-reads the object only when its
ETag changed (one 304 otherwise), as the search snapshots are read.

The indexes are built by the refresh, which has the ads in hand, and stored with them: ads by
(country, placement) sorted by their context-free eCPM, and by word and by category prefix, so a
decision looks at a few hundred candidates, never all of the region's campaigns. Decoding only splits
the lines: an index is parsed when a decision first asks for its country and placement, its lists of
ad positions are unpacked when first looked up (``postings``), and an ad's line is parsed when a
decision first touches that ad. So a function's first request after a refresh pays for what it uses,
not for the region's hundred thousand campaigns; the state is parsed only by the refresh.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, NamedTuple

from .postings import (
    Positions,
    Postings,
    Resolved,
    pack,
    pack_floats,
    pack_ranks,
    positions,
    ranked_positions,
    unpack,
    unpack_floats,
)
from .ranking import Bid, segments

if TYPE_CHECKING:
    from botocore.client import BaseClient

FORMAT_VERSION = 2
SNAPSHOT_KEY = "ads/snapshot.json.gz"
CHECK_EVERY_S = 5.0
# The header line is a few hundred bytes; an older format's one-line document is the whole snapshot,
# which is not parsed just to find that it is not this format.
_HEADER_LIMIT = 1 << 20
# The lines between the header and the indexes of each (country, placement).
_IDS, _COLLECTIONS, _STATE, _PRODUCTS, _ECPM, _FIXED = range(6)


@lru_cache(maxsize=8192)
def _path(category: str) -> tuple[str, ...]:
    """A category split (``ranking.segments``): a region's ads share a few thousand categories."""
    return segments(category)


class AdProduct(NamedTuple):
    """A product of an ad's creative; a tuple, written to the snapshot as the array of its fields."""

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

    def to_row(self) -> list[Any]:
        """The ad's fields but its campaign id (the snapshot lists the ids apart), in the order
        :meth:`from_row` reads them: no keys, as a snapshot holds a hundred thousand of them."""
        return [
            self.shop_id,
            self.shop_name,
            self.objective,
            self.placements,
            self.countries,
            self.headline,
            self.products,
            [self.bid.model, self.bid.amount_minor, self.bid.exponent],
            self.currency,
            self.ctr,
            round(self.serve_p, 6),
            self.start,
            self.end,
            self.cap,
            self.words,
            self.categories,
            self.keywords,
            self.destination,
        ]

    @classmethod
    def from_row(cls, campaign_id: str, row: list[Any]) -> Ad:
        (
            shop_id,
            shop_name,
            objective,
            placements,
            countries,
            headline,
            products,
            (model, amount, exponent),
            currency,
            ctr,
            serve_p,
            start,
            end,
            cap,
            words,
            categories,
            keywords,
            destination,
        ) = row
        ad = cls(
            campaign_id=campaign_id,
            shop_id=shop_id,
            shop_name=shop_name,
            objective=objective,
            placements=tuple(placements),
            countries=tuple(countries),
            headline=headline,
            products=tuple(AdProduct(*p) for p in products),
            bid=Bid(model, amount, exponent),
            currency=currency,
            ctr=ctr,
            serve_p=float(serve_p),
            start=float(start),
            end=float(end) if end is not None else None,
            cap=(int(cap[0]), str(cap[1])) if cap else None,
            words=words,
            categories=tuple(categories),
            keywords=tuple(keywords),
            destination=destination,
            paths=tuple(map(_path, categories)),
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
    """A snapshot with the indexes decisions use: built from ads in memory (the refresh, tests), or
    decoded from its bytes (a function), its parts then parsed as they are first used."""

    def __init__(
        self,
        *,
        slot: str,
        ads: list[Ad],
        collections: list[Collection] | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        unique = list({ad.campaign_id: ad for ad in ads}.values())
        by_slot: dict[tuple[str, str], list[int]] = {}
        by_product: dict[str, list[int] | str] = {}
        for position, ad in enumerate(unique):
            ad.paths = tuple(map(_path, ad.categories))
            for country in ad.countries:
                for placement in ad.placements:
                    by_slot.setdefault((country, placement), []).append(position)
            for product in ad.products:
                by_product.setdefault(product.id, []).append(position)  # type: ignore[union-attr]
        placements = dict.fromkeys(p for ad in unique for p in ad.placements)
        ecpm = {p: [ad.static_ecpm.get(p, 0.0) for ad in unique] for p in placements}
        self._assign(
            slot=slot,
            table=_AdTable([ad.campaign_id for ad in unique], unique),
            collections=list(collections or []),
            slots={key: _SlotIndex.build(unique, listed, ecpm[key[1]]) for key, listed in by_slot.items()},
            products=Postings(by_product, positions),
            ecpm=ecpm,
            state=state or {},
            state_line=None,
        )

    def _assign(
        self,
        *,
        slot: str,
        table: _AdTable,
        collections: list[Collection],
        slots: dict[tuple[str, str], _SlotIndex | bytes],
        products: Postings[str] | bytes,
        ecpm: Mapping[str, Sequence[float]],
        state: dict[str, Any] | None,
        state_line: bytes | None,
    ) -> None:
        self.slot = slot
        self._table = table
        self.ads: Mapping[str, Ad] = _Ads(table)
        self.collections = collections
        self.collections_by_country: dict[str, list[Collection]] = {}
        for collection in collections:
            self.collections_by_country.setdefault(collection.country, []).append(collection)
        self._slots = slots
        self._products = products
        self._ecpm = ecpm  # placement -> each ad's context-free eCPM there, by position
        self._state = state
        self._state_line = state_line

    @property
    def ads_decoded(self) -> int:
        """How many of its ads have been decoded so far (all, for one built in memory)."""
        return self._table.decoded()

    @property
    def state(self) -> dict[str, Any]:
        """The pacing and click-rate state the next refresh continues from (only it reads it)."""
        if self._state is None:
            self._state = json.loads(self._state_line or b"{}") or {}
        return self._state

    def ranked(self, country: str, placement: str) -> Sequence[Ad]:
        """The ads of a country and placement, best context-free eCPM first."""
        index = self._slot(country, placement)
        return Resolved(self._table.ad, index.ranked) if index is not None else ()

    def with_word(self, country: str, placement: str, word: str) -> Sequence[Ad]:
        index = self._slot(country, placement)
        return Resolved(self._table.ad, index.words.get(word)) if index is not None else ()

    def in_category(self, country: str, placement: str, category: str) -> Sequence[Ad]:
        """Ads whose categories are ``category`` or under it, or above it on its path."""
        index = self._slot(country, placement)
        if index is None:
            return ()
        path = segments(category)
        listed: Positions = index.below.get(path)
        above = [position for depth in range(1, len(path)) for position in index.exact.get(path[:depth])]
        if above:
            # Sorted by the eCPMs the snapshot keeps beside its ads, so no ad is decoded to order them.
            listed = sorted(
                dict.fromkeys((*listed, *above)), key=self._ecpm[placement].__getitem__, reverse=True
            )
        return Resolved(self._table.ad, listed)

    def with_product(self, product_id: str) -> Sequence[Ad]:
        return Resolved(self._table.ad, self._product_index().get(product_id))

    def _slot(self, country: str, placement: str) -> _SlotIndex | None:
        found = self._slots.get((country, placement))
        if isinstance(found, bytes):
            found = self._slots[(country, placement)] = _SlotIndex.from_json(json.loads(found))
        return found

    def _product_index(self) -> Postings[str]:
        if isinstance(self._products, bytes):
            self._products = Postings(json.loads(self._products), positions)
        return self._products

    # --- bytes ---

    def to_bytes(self) -> bytes:
        encode = _ENCODER.encode
        keys = list(self._slots)
        header = {"format": FORMAT_VERSION, "slot": self.slot, "ads": len(self._table), "slots": keys}
        fixed = [
            encode(header),
            encode(self._table.ids),
            encode([c.to_json() for c in self.collections]),
            encode(self.state),
            encode(self._product_index().given),  # few ads each: plain JSON lists
            encode({placement: pack_floats(values) for placement, values in self._ecpm.items()}),
        ]
        indexes = (encode(self._slot(*key).to_json()) for key in keys)  # type: ignore[union-attr]
        rows = (encode(self._table.ad(position).to_row()) for position in range(len(self._table)))
        lines = chain(fixed, indexes, rows)
        return _gzip_lines(lines)

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        lines = gzip.decompress(data).split(b"\n")
        header = json.loads(lines[0]) if len(lines[0]) <= _HEADER_LIMIT else None
        found = header.get("format") if isinstance(header, dict) else None
        if found != FORMAT_VERSION:
            raise ValueError(f"unknown ads snapshot format {found!r}")
        keys = [(str(country), str(placement)) for country, placement in header["slots"]]
        count = int(header["ads"])
        body = lines[1:]
        ids = json.loads(body[_IDS]) if len(body) == _FIXED + len(keys) + count else None
        if ids is None or len(ids) != count:
            raise ValueError("a damaged ads snapshot: its lines are not those its header names")
        rows: list[bytes | None] = body[_FIXED + len(keys) :]  # type: ignore[assignment]
        snapshot = cls.__new__(cls)
        snapshot._assign(
            slot=header["slot"],
            table=_AdTable(ids, _Lines(ids, rows)),
            collections=[Collection.from_json(entry) for entry in json.loads(body[_COLLECTIONS])],
            slots=dict(zip(keys, body[_FIXED : _FIXED + len(keys)], strict=True)),
            products=body[_PRODUCTS],
            ecpm={placement: unpack_floats(text) for placement, text in json.loads(body[_ECPM]).items()},
            state=None,
            state_line=body[_STATE],
        )
        return snapshot


# Snapshots hold plain lists, dicts and tuples that refer to no container twice, never to themselves.
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def _gzip_lines(lines: Iterable[str], level: int = 5, batch: int = 2000) -> bytes:
    """The lines, joined by newlines, gzipped a few thousand at a time: a snapshot is a hundred
    megabytes of text, which is never held whole as one string and its bytes besides."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip's header and trailer
    out = []
    iterator = iter(lines)
    separator = ""
    while chunk := list(islice(iterator, batch)):
        out.append(compressor.compress((separator + "\n".join(chunk)).encode()))
        separator = "\n"
    out.append(compressor.flush())
    return b"".join(out)


class _SlotIndex:
    """The ads of one country and placement, best context-free eCPM first, so a decision can stop
    early or keep the best few: ``ranked`` holds their positions in that order, and the word and
    category lists their ranks in it, filled in that order (so ascending), made into positions when
    first looked up."""

    __slots__ = ("ranked", "words", "below", "exact")

    def __init__(
        self,
        ranked: Positions,
        words: dict[str, list[int] | str],
        below: dict[tuple[str, ...], list[int] | str],
        exact: dict[tuple[str, ...], list[int] | str],
    ) -> None:
        self.ranked = ranked

        def resolve(ranks: list[int] | str) -> Positions:
            return ranked_positions(ranked, ranks)

        self.words = Postings(words, resolve)
        self.below = Postings(below, resolve)  # by every prefix of an ad's category: the ads at or below it
        self.exact = Postings(exact, resolve)  # by an ad's whole category: the ads above a deeper path

    @classmethod
    def build(cls, ads: Sequence[Ad], listed: list[int], ecpm: Sequence[float]) -> _SlotIndex:
        """The index of the ads at positions ``listed`` (in the order given), ``ecpm`` giving each
        position's context-free eCPM in this placement."""
        listed.sort(key=ecpm.__getitem__, reverse=True)
        # defaultdicts (read with .get only, so they stay as built): a hundred thousand ads' words
        # are millions of appends.
        words: defaultdict[str, list[int]] = defaultdict(list)
        below: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
        exact: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
        for rank, position in enumerate(listed):
            ad = ads[position]
            for word in ad.words:
                words[word].append(rank)
            for path in ad.paths:
                exact[path].append(rank)
                for depth in range(1, len(path) + 1):
                    below[path[:depth]].append(rank)
        return cls(listed, words, below, exact)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {
            "ranked": pack(self.ranked),
            "words": self.words.packed(pack_ranks),
            "below": list(self.below.packed(pack_ranks).items()),
            "exact": list(self.exact.packed(pack_ranks).items()),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _SlotIndex:
        return cls(
            unpack(data["ranked"]),
            data["words"],
            {tuple(path): text for path, text in data["below"]},
            {tuple(path): text for path, text in data["exact"]},
        )


class _AdTable:
    """The snapshot's ads by position: ``ad(position)``, a C-level lookup for an ad in hand."""

    __slots__ = ("ids", "positions", "ad", "_ads")

    def __init__(self, ids: list[str], ads: list[Ad] | _Lines) -> None:
        self.ids = ids
        self.positions = {campaign_id: position for position, campaign_id in enumerate(ids)}
        self._ads = ads
        self.ad: Callable[[int], Ad] = ads.__getitem__

    def __len__(self) -> int:
        return len(self.ids)

    def decoded(self) -> int:
        return len(self._ads) if isinstance(self._ads, _Lines) else len(self.ids)


class _Lines(dict[int, Ad]):
    """Ads by position, each parsed from its line when first asked for (``__missing__``: a dict
    answers the ads already parsed without calling back into Python)."""

    __slots__ = ("_ids", "_rows")

    def __init__(self, ids: list[str], rows: list[bytes | None]) -> None:
        super().__init__()
        self._ids = ids
        self._rows = rows

    def __missing__(self, position: int) -> Ad:
        row = self._rows[position]
        if row is None:  # parsed meanwhile by another thread, which stores the ad before it drops the line
            return self[position]
        ad = self[position] = Ad.from_row(self._ids[position], json.loads(row))
        self._rows[position] = None
        return ad


class _Ads(Mapping[str, Ad]):
    """The snapshot's ads by campaign id, decoded as they are read."""

    __slots__ = ("_table",)

    def __init__(self, table: _AdTable) -> None:
        self._table = table

    def __getitem__(self, campaign_id: str) -> Ad:
        return self._table.ad(self._table.positions[campaign_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.ids)

    def __len__(self) -> int:
        return len(self._table)


EMPTY = Snapshot(slot="", ads=[])


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
