"""The in-function vector index: an HNSW graph (usearch) plus the keys and metadata queries filter on.

Why usearch: ``bench/ann.py``, one thread, M=16, ef_construction=128, on 2 shared cores:

================================  =========  ==============  ==============  ===========
data                              ef_search  usearch r@10    faiss r@10      exact p50
                                             / p50 ms        / p50 ms        ms
================================  =========  ==============  ==============  ===========
100k x 512 clustered synthetic    32         1.000 / 0.58    0.997 / 0.27    17.1
                                  64         1.000 / 0.77    1.000 / 0.39
20k x 384 MiniLM product titles   32         0.990 / 0.29    0.992 / 0.11    3.5
                                  64         0.998 / 0.44    0.999 / 0.16
================================  =========  ==============  ==============  ===========

Both meet the target (recall@10 >= 0.95 at p50 < 1 ms at 100k, 20-40x exact search). faiss answers
one query 2-3x faster and builds 1.7x faster, but its HNSW cannot remove a vector: every update
would leave a tombstone in the graph and need periodic full rebuilds (110 s for 100k on one core).
The indexer applies changes product by product, and usearch removes and re-adds in place, so
usearch it is. Imports cost the same (~50 ms each after NumPy). The
default beam width of 48 sits between the two measured rows: recall >= 0.99 on real embeddings,
p50 ~0.75 ms at 100k through this class (its Python wrapping adds ~0.1 ms a query).

Layout: every record lives in a *slot*, the integer label the graph knows it by. Metadata is kept
in columns indexed by slot, so a filter is a vectorised mask, not a loop over Python objects. A
deleted record frees its slot for the next new key, so slots stay about as many as records.

Snapshot format (``to_bytes``/``from_bytes``), never pickle, since snapshots are read from S3:
``MAGIC | u32 header length | JSON header | shop codes i32[n] | country codes i32[n] | flags u8[n] |
usearch index``; the header names the format version, the dimensions, the HNSW parameters and the
string tables (keys by slot, shop ids, country codes).
"""

from __future__ import annotations

import json
import math
import struct
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from chatshop.search.vectors import Vector, VectorFilter, VectorHit, VectorMetadata, VectorRecord, unit_vector

__all__ = ["FORMAT_VERSION", "AnnIndex", "HnswParams", "SnapshotFormatError"]

MAGIC = b"CSANN\x00"
FORMAT_VERSION = 1
_HEADER_LENGTH = struct.Struct("<I")
_ALIVE = 1
_IN_STOCK = 2
# A filter that leaves at most this many records is answered by an exact scan of those records:
# cheaper than over-fetching from the graph, and exact.
EXACT_SCAN_LIMIT = 4096


class SnapshotFormatError(ValueError):
    """Bytes that are not an index snapshot this code can read."""


@dataclass(frozen=True)
class HnswParams:
    """Graph parameters; ``bench/ann.py`` measured these against recall and latency."""

    connectivity: int = 16  # M: edges per node
    expansion_add: int = 128  # ef_construction
    expansion_search: int = 48  # ef_search: the beam width of a query


class _Codes:
    """Strings (shop ids, countries) as small integers, so a metadata column is a NumPy array."""

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names = list(names)
        self._code = {name: code for code, name in enumerate(self.names)}

    def code(self, name: str) -> int:
        code = self._code.get(name)
        if code is None:
            code = self._code[name] = len(self.names)
            self.names.append(name)
        return code

    def find(self, name: str) -> int | None:
        return self._code.get(name)


class AnnIndex:
    """A :class:`~chatshop.search.vectors.VectorIndex` held in memory. Thread-safe."""

    def __init__(
        self, dimensions: int, params: HnswParams | None = None, *, exact_scan_limit: int = EXACT_SCAN_LIMIT
    ) -> None:
        if dimensions < 1:
            raise ValueError("dimensions must be positive")
        self._dimensions = dimensions
        self._params = params or HnswParams()
        self._exact_scan_limit = exact_scan_limit
        self._graph = self._new_graph()
        self._lock = threading.RLock()
        self._keys: list[str | None] = []  # by slot; None where the slot is free
        self._slot_of: dict[str, int] = {}
        self._free: list[int] = []
        self._shops = _Codes()
        self._countries = _Codes()
        self._shop = np.zeros(0, dtype=np.int32)
        self._country = np.zeros(0, dtype=np.int32)
        self._flags = np.zeros(0, dtype=np.uint8)

    def _new_graph(self):  # -> usearch.index.Index; imported late to keep importing this module cheap
        from usearch.index import Index

        return Index(
            ndim=self._dimensions,
            metric="ip",  # inner product of unit vectors = cosine; usearch's distance is 1 - ip
            dtype="f32",
            connectivity=self._params.connectivity,
            expansion_add=self._params.expansion_add,
            expansion_search=self._params.expansion_search,
        )

    # --- the VectorIndex contract -------------------------------------------------------------

    @property
    def dimensions(self) -> int:
        return self._dimensions

    @property
    def params(self) -> HnswParams:
        return self._params

    def __len__(self) -> int:
        return len(self._slot_of)

    def set_expansion_search(self, expansion_search: int) -> None:
        """The beam width of later queries: wider finds more of the true neighbours, more slowly."""
        with self._lock:
            self._params = HnswParams(self._params.connectivity, self._params.expansion_add, expansion_search)
            self._graph.expansion_search = expansion_search

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        # The last record of a key wins, as if they had been upserted one by one.
        latest = {record.key: record for record in records}
        if not latest:
            return
        vectors = np.stack([self._unit(record.vector) for record in latest.values()])
        with self._lock:
            slots = np.array([self._claim_slot(key) for key in latest], dtype=np.uint64)
            present = np.asarray(self._graph.contains(slots), dtype=bool).reshape(-1)
            if present.any():
                self._graph.remove(slots[present])  # usearch keeps one vector per key: replace
            self._graph.add(slots, vectors, threads=1)
            for slot, record in zip(slots.tolist(), latest.values(), strict=True):
                self._set_metadata(slot, record.metadata)

    def delete(self, keys: Sequence[str]) -> None:
        with self._lock:
            slots = [self._slot_of.pop(key) for key in set(keys) if key in self._slot_of]
            if not slots:
                return
            self._graph.remove(np.array(slots, dtype=np.uint64))
            for slot in slots:
                self._keys[slot] = None
                self._flags[slot] = 0
            self._free.extend(slots)

    def query(self, vector: Vector, limit: int, where: VectorFilter | None = None) -> list[VectorHit]:
        query = self._unit(vector)
        with self._lock:
            if limit < 1 or not self._slot_of:
                return []
            if where is None or where == VectorFilter():
                slots, scores = self._search(query, limit)
                return self._hits(slots, scores, limit)
            mask = self._mask(where)
            accepted = int(np.count_nonzero(mask))
            if accepted == 0:
                return []
            if accepted <= self._exact_scan_limit:
                return self._exact(query, np.flatnonzero(mask), limit)
            return self._filtered(query, mask, accepted, limit)

    # --- snapshots ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        with self._lock:
            header = json.dumps(
                {
                    "format": FORMAT_VERSION,
                    "dimensions": self._dimensions,
                    "params": asdict(self._params),
                    "slots": len(self._keys),
                    "keys": self._keys,
                    "shops": self._shops.names,
                    "countries": self._countries.names,
                },
                separators=(",", ":"),
            ).encode()
            n = len(self._keys)
            return b"".join(
                (
                    MAGIC,
                    _HEADER_LENGTH.pack(len(header)),
                    header,
                    self._shop[:n].astype("<i4").tobytes(),
                    self._country[:n].astype("<i4").tobytes(),
                    self._flags[:n].tobytes(),
                    bytes(self._graph.save()),
                )
            )

    @classmethod
    def from_bytes(
        cls, data: bytes, params: HnswParams | None = None, *, exact_scan_limit: int = EXACT_SCAN_LIMIT
    ) -> AnnIndex:
        """Read a snapshot; ``params`` (default: the snapshot's own) sets the search beam width."""
        view = memoryview(data)
        header, offset = _read_header(view)
        try:
            stored = HnswParams(**header["params"])
            index = cls(int(header["dimensions"]), stored, exact_scan_limit=exact_scan_limit)
            n = int(header["slots"])
            keys = list(header["keys"])
            shops, countries = _Codes(header["shops"]), _Codes(header["countries"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotFormatError("the snapshot's header is incomplete") from exc
        if len(keys) != n:
            raise SnapshotFormatError("the key table does not match the slot count")
        index._shop = _column(view, offset, n, "<i4").astype(np.int32)
        index._country = _column(view, offset + 4 * n, n, "<i4").astype(np.int32)
        index._flags = _column(view, offset + 8 * n, n, "u1").copy()
        index._keys = keys
        index._slot_of = {key: slot for slot, key in enumerate(keys) if key is not None}
        index._free = [slot for slot, key in enumerate(keys) if key is None]
        index._shops, index._countries = shops, countries
        alive = index._flags & _ALIVE
        if np.any(index._shop[alive.astype(bool)] >= len(shops.names)) or np.any(
            index._country[alive.astype(bool)] >= len(countries.names)
        ):
            raise SnapshotFormatError("a metadata code is outside its table")
        graph = index._graph
        try:
            graph.load(bytes(view[offset + 9 * n :]))
        except (RuntimeError, ValueError) as exc:
            raise SnapshotFormatError("the snapshot's graph is unreadable") from exc
        if graph.ndim != index._dimensions or len(graph) != len(index._slot_of):
            raise SnapshotFormatError("the graph does not match the snapshot's header")
        index.set_expansion_search((params or stored).expansion_search)
        return index

    # --- internals ------------------------------------------------------------------------------

    def _unit(self, vector: Vector) -> np.ndarray:
        return unit_vector(vector, self._dimensions)

    def _claim_slot(self, key: str) -> int:
        slot = self._slot_of.get(key)
        if slot is not None:
            return slot
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._keys)
            self._keys.append(None)
            self._grow(slot + 1)
        self._keys[slot] = key
        self._slot_of[key] = slot
        return slot

    def _grow(self, needed: int) -> None:
        if needed <= len(self._flags):
            return
        size = max(needed, 2 * len(self._flags), 64)
        self._shop = np.resize(self._shop, size)
        self._country = np.resize(self._country, size)
        flags = np.zeros(size, dtype=np.uint8)
        flags[: len(self._flags)] = self._flags
        self._flags = flags

    def _set_metadata(self, slot: int, metadata: VectorMetadata) -> None:
        self._shop[slot] = self._shops.code(metadata.shop_id)
        self._country[slot] = self._countries.code(metadata.country)
        self._flags[slot] = _ALIVE | (_IN_STOCK if metadata.in_stock else 0)

    def _metadata(self, slot: int) -> VectorMetadata:
        return VectorMetadata(
            shop_id=self._shops.names[self._shop[slot]],
            country=self._countries.names[self._country[slot]],
            in_stock=bool(self._flags[slot] & _IN_STOCK),
        )

    def _mask(self, where: VectorFilter) -> np.ndarray:
        n = len(self._keys)
        mask = (self._flags[:n] & _ALIVE).astype(bool)
        if where.in_stock_only:
            mask &= (self._flags[:n] & _IN_STOCK).astype(bool)
        for value, codes, column in (
            (where.shop_id, self._shops, self._shop),
            (where.country, self._countries, self._country),
        ):
            if value is not None:
                code = codes.find(value)
                if code is None:
                    return np.zeros(n, dtype=bool)
                mask &= column[:n] == code
        return mask

    def _search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        matches = self._graph.search(query, count, threads=1)
        return matches.keys.astype(np.int64), 1.0 - matches.distances

    def _filtered(self, query: np.ndarray, mask: np.ndarray, accepted: int, limit: int) -> list[VectorHit]:
        """Over-fetch from the graph and keep what the filter accepts; fetch more until enough."""
        total = len(self._slot_of)
        # Enough candidates to expect ``limit`` accepted ones, with a margin.
        fetch = min(total, max(2 * limit, math.ceil(1.5 * limit * total / accepted)))
        while True:
            slots, scores = self._search(query, fetch)
            keep = mask[slots]
            if int(np.count_nonzero(keep)) >= min(limit, accepted):
                return self._hits(slots[keep], scores[keep], limit)
            if fetch >= total:
                # The graph search is approximate even when asked for everything: finish exactly.
                return self._exact(query, np.flatnonzero(mask), limit)
            fetch = min(total, 4 * fetch)

    def _exact(self, query: np.ndarray, slots: np.ndarray, limit: int) -> list[VectorHit]:
        vectors = self._graph.get(slots.astype(np.uint64))
        matrix = (
            np.vstack(vectors)
            if isinstance(vectors, tuple)
            else np.asarray(vectors).reshape(-1, self._dimensions)
        )
        scores = matrix @ query
        top = min(limit, len(scores))
        best = np.argpartition(-scores, top - 1)[:top]
        best = best[np.argsort(-scores[best], kind="stable")]
        return self._hits(slots[best], scores[best], limit)

    def _hits(self, slots: np.ndarray, scores: np.ndarray, limit: int) -> list[VectorHit]:
        hits = []
        for slot, score in zip(slots.tolist(), scores.tolist(), strict=True):
            key = self._keys[slot] if 0 <= slot < len(self._keys) else None
            if key is not None:
                hits.append(VectorHit(key=key, score=float(score), metadata=self._metadata(slot)))
            if len(hits) == limit:
                break
        return hits


def _read_header(view: memoryview) -> tuple[dict, int]:
    start = len(MAGIC) + _HEADER_LENGTH.size
    if len(view) < start or bytes(view[: len(MAGIC)]) != MAGIC:
        raise SnapshotFormatError("not an index snapshot")
    (length,) = _HEADER_LENGTH.unpack_from(view, len(MAGIC))
    try:
        header = json.loads(bytes(view[start : start + length]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotFormatError("the snapshot's header is not JSON") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        found = header.get("format") if isinstance(header, dict) else None
        raise SnapshotFormatError(f"snapshot format {found!r} is not {FORMAT_VERSION}")
    return header, start + length


def _column(view: memoryview, offset: int, count: int, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize * count
    if offset + size > len(view):
        raise SnapshotFormatError("the snapshot is truncated")
    return np.frombuffer(view, dtype=dtype, count=count, offset=offset)
