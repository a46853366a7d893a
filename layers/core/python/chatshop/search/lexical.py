"""Exact hits: retailer ids, brand and title words, in a small inverted index per region and per shop.

Semantic search finds "red running shoes" from "crimson trainers", but a customer who types a SKU
wants that product and no neighbour of it; this index answers that, and the words a model may
weigh too lightly (a brand, a model number). It is kept as one gzipped JSON document per scope in
the search index bucket; the indexer changes it with conditional writes, so two indexers never
lose each other's updates, and the search function re-reads it only when its ETag changed.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

# Longer queries are cut: no product title needs more, and work stays bounded for any input.
MAX_QUERY_CHARS = 1000
MAX_QUERY_TOKENS = 32
MAX_SKU_LENGTH = 100
FORMAT_VERSION = 1

_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "a an and at by de der die das en et for from in is it la le of on or the to with".split()  # noqa: SIM905
)


def clean_query(text: str) -> str:
    """The query as searched: NFKC, control and format characters dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text[: MAX_QUERY_CHARS * 2])
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(kept.split())[:MAX_QUERY_CHARS]


def normalise_sku(text: str) -> str:
    return clean_query(text).casefold()


def tokens(text: str) -> list[str]:
    """Case-folded, accent-free words in order, without stopwords and one-letter words."""
    folded = unicodedata.normalize("NFKD", clean_query(text).casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [t for t in _WORD.findall(plain) if (len(t) > 1 or t.isdigit()) and t not in _STOPWORDS]


@dataclass(frozen=True)
class LexicalEntry:
    """What one product contributes: its SKU and the words of its title and brand."""

    product_id: str
    shop_id: str
    country: str
    retailer_id: str
    words: tuple[str, ...]

    @classmethod
    def of(
        cls, product_id: str, shop_id: str, country: str, retailer_id: str, title: str, brand: str | None
    ) -> LexicalEntry:
        words = tuple(dict.fromkeys(tokens(f"{title} {brand or ''}")))
        return cls(product_id, shop_id, country, normalise_sku(retailer_id), words)


@dataclass(frozen=True)
class LexicalHit:
    product_id: str
    shop_id: str
    score: float  # 1.0 for a SKU; else the share of the query's word weight the product matched
    sku: bool


class LexicalIndex:
    def __init__(self, entries: Iterable[LexicalEntry] = ()) -> None:
        self._entries: dict[str, LexicalEntry] = {}
        self._postings: dict[str, set[str]] = {}
        self._skus: dict[str, set[str]] = {}
        for entry in entries:
            self.upsert(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._entries

    def upsert(self, entry: LexicalEntry) -> None:
        self.delete(entry.product_id)
        self._entries[entry.product_id] = entry
        self._skus.setdefault(entry.retailer_id, set()).add(entry.product_id)
        for word in entry.words:
            self._postings.setdefault(word, set()).add(entry.product_id)

    def delete(self, product_id: str) -> None:
        old = self._entries.pop(product_id, None)
        if old is None:
            return
        _discard(self._skus, old.retailer_id, product_id)
        for word in old.words:
            _discard(self._postings, word, product_id)

    def search(
        self, query: str, limit: int, shop_id: str | None = None, country: str | None = None
    ) -> list[LexicalHit]:
        """SKU hits first (the whole query, or one of its terms, equal to a retailer_id), then
        products by the weight of the query words they contain, rarer words weighing more."""

        def accepted(entry: LexicalEntry) -> bool:
            return (shop_id is None or entry.shop_id == shop_id) and (
                country is None or entry.country == country
            )

        hits: dict[str, LexicalHit] = {}
        for product_id in self._sku_matches(query):
            entry = self._entries[product_id]
            if accepted(entry):
                hits[product_id] = LexicalHit(product_id, entry.shop_id, 1.0, sku=True)
        words = list(dict.fromkeys(tokens(query)))[:MAX_QUERY_TOKENS]
        weights = {word: self._idf(word) for word in words}
        total = sum(weights.values())
        scores: dict[str, float] = {}
        for word, weight in weights.items():
            for product_id in self._postings.get(word, ()):
                scores[product_id] = scores.get(product_id, 0.0) + weight
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        for product_id, score in ranked:
            if len(hits) >= limit:
                break
            entry = self._entries[product_id]
            if product_id not in hits and accepted(entry):
                hits[product_id] = LexicalHit(product_id, entry.shop_id, score / total, sku=False)
        return list(hits.values())[:limit]

    def _sku_matches(self, query: str) -> list[str]:
        whole = normalise_sku(query)
        candidates = [whole, *whole.split()[:MAX_QUERY_TOKENS]]
        found: dict[str, None] = {}
        for candidate in candidates:
            if 0 < len(candidate) <= MAX_SKU_LENGTH:
                found.update(dict.fromkeys(sorted(self._skus.get(candidate, ()))))
        return list(found)

    def _idf(self, word: str) -> float:
        return math.log(1 + (len(self._entries) + 1) / (len(self._postings.get(word, ())) + 1))

    # --- serialisation ---

    def to_bytes(self) -> bytes:
        rows = [
            [e.product_id, e.shop_id, e.country, e.retailer_id, list(e.words)] for e in self._entries.values()
        ]
        document = {"format": FORMAT_VERSION, "entries": rows}
        return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> LexicalIndex:
        document = json.loads(gzip.decompress(data))
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown lexical index format {document.get('format')!r}")
        return cls(
            LexicalEntry(pid, shop, country, sku, tuple(words))
            for pid, shop, country, sku, words in document["entries"]
        )


def _discard(index: dict[str, set[str]], key: str, product_id: str) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(product_id)
        if not ids:
            del index[key]


class ConcurrentUpdates(RuntimeError):
    """The index kept changing under the writer; the event is retried later."""


class LexicalStore:
    """Data access: the lexical index documents of one region in the search index bucket.

    Readers keep the last document and its ETag, and ask S3 again at most every
    ``refresh_s``, with If-None-Match, so an unchanged index costs one small request.
    """

    WRITE_ATTEMPTS = 8

    def __init__(
        self,
        settings: Settings,
        region: str | None = None,
        refresh_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bucket = settings.require("search_index_bucket")
        self._s3 = aws.client("s3", settings)
        self._prefix = f"lexical/{region or settings.region}"
        self._refresh_s = refresh_s
        self._clock = clock
        self._cache: dict[str, tuple[float, str | None, LexicalIndex]] = {}
        self._lock = threading.Lock()

    def for_query(self, shop_id: str | None) -> LexicalIndex:
        key = self._key(shop_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and self._clock() - cached[0] < self._refresh_s:
            return cached[2]
        etag, index = self._read(key, cached[1] if cached else None, cached[2] if cached else None)
        with self._lock:
            self._cache[key] = (self._clock(), etag, index)
        return index

    def apply(self, shop_id: str, upserts: Sequence[LexicalEntry], deletes: Sequence[str]) -> None:
        if not upserts and not deletes:
            return
        for key in (self._key(None), self._key(shop_id)):
            self._update(key, upserts, deletes)

    def _update(self, key: str, upserts: Sequence[LexicalEntry], deletes: Sequence[str]) -> None:
        for _ in range(self.WRITE_ATTEMPTS):
            etag, index = self._read(key, None, None)
            before = index.to_bytes()
            for product_id in deletes:
                index.delete(product_id)
            for entry in upserts:
                index.upsert(entry)
            after = index.to_bytes()
            if after == before:
                return
            condition: dict[str, Any] = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=after,
                    ContentType="application/gzip",
                    **condition,
                )
                return
            except self._s3.exceptions.ClientError as exc:
                if not _lost_race(exc):
                    raise
        raise ConcurrentUpdates(key)

    def _read(
        self, key: str, etag: str | None, current: LexicalIndex | None
    ) -> tuple[str | None, LexicalIndex]:
        conditional = {"IfNoneMatch": etag} if etag and current is not None else {}
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key, **conditional)
        except self._s3.exceptions.NoSuchKey:
            return None, LexicalIndex()
        except self._s3.exceptions.ClientError as exc:
            if _status(exc) == 304 and current is not None:
                return etag, current
            raise
        return response["ETag"], LexicalIndex.from_bytes(response["Body"].read())

    def _key(self, shop_id: str | None) -> str:
        if shop_id is None:
            return f"{self._prefix}/region.json.gz"
        return f"{self._prefix}/shops/{shop_id}.json.gz"


def _status(exc: Exception) -> int | None:
    return getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")


def _lost_race(exc: Exception) -> bool:
    # 412: the document changed since it was read; 409: another conditional write was in flight.
    return _status(exc) in (409, 412)
