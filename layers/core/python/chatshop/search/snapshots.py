"""Index snapshots in S3: read once, re-read only when the object's ETag changes; written with
conditional writes so two writers never lose each other's changes.

Two layers:

* :class:`BlobStore` and :class:`CachedBlob`: any object of a bucket, read by ETag
  (GetObject ``IfNoneMatch``: one round trip answers "unchanged" with a 304 and "changed" with the
  new bytes) and updated read-modify-write (PutObject ``IfMatch`` / ``IfNoneMatch='*'``, retried on
  a conflict). Nothing here knows what the bytes mean, so a lexical index can live next to the vectors.
* :class:`SnapshotStore`: the ANN snapshots of one region, one per space (``image``, ``text``) for the
  whole region and one per space and shop::

      indexes/{region}/{space}/region.idx
      indexes/{region}/{space}/shops/{shop_id}.idx
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from chatshop.platform.observability import get_logger
from chatshop.search.ann import AnnIndex, HnswParams, SnapshotFormatError
from chatshop.search.vectors import VectorRecord

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = [
    "Blob",
    "BlobStore",
    "CachedBlob",
    "SnapshotStore",
    "WriteConflict",
    "snapshot_key",
]

T = TypeVar("T")

DEFAULT_CHECK_EVERY_S = 5.0
DEFAULT_ATTEMPTS = 8
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class WriteConflict(RuntimeError):
    """Another writer changed (or created) the object since it was read."""


@dataclass(frozen=True)
class Blob:
    data: bytes
    etag: str


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(error: Exception) -> int:
    response = getattr(error, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class BlobStore:
    """Objects of one bucket, read and written by ETag."""

    def __init__(self, s3: BaseClient, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def get(self, key: str, *, if_none_match: str | None = None) -> Blob | None | _Unchanged:
        """The object; None when there is none; ``UNCHANGED`` when its ETag is still ``if_none_match``."""
        from botocore.exceptions import ClientError

        options = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, **options)
        except ClientError as error:
            if _status(error) == 304 or _code(error) in ("304", "NotModified"):
                return UNCHANGED
            if _code(error) in ("NoSuchKey", "404"):
                return None
            raise
        with response["Body"] as body:
            return Blob(data=body.read(), etag=response["ETag"])

    def put(self, key: str, data: bytes, *, if_match: str | None = None) -> str:
        """Write ``data`` if the object's ETag is still ``if_match`` (None: if there is no object yet).

        Returns the new ETag; raises :class:`WriteConflict` when someone else wrote first.
        """
        from botocore.exceptions import ClientError

        condition = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"}
        try:
            response = self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, **condition)
        except ClientError as error:
            # 412: the condition failed. 409: a concurrent conditional write won the race.
            # 404 with IfMatch: the object was deleted since it was read.
            if _status(error) in (409, 412) or (if_match and _code(error) == "NoSuchKey"):
                raise WriteConflict(f"s3://{self.bucket}/{key} changed while it was being updated") from error
            raise
        return response["ETag"]

    def update(
        self,
        key: str,
        change: Callable[[bytes | None], bytes],
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Blob:
        """Read-modify-write: ``change`` gets the current bytes (None: no object yet) and returns the
        new ones. On a conflict it runs again on the newer bytes, up to ``attempts`` times in all."""
        for attempt in range(attempts):
            current = self.get(key)
            assert not isinstance(current, _Unchanged)  # no if_none_match was given
            data = change(current.data if current else None)
            try:
                etag = self.put(key, data, if_match=current.etag if current else None)
                return Blob(data=data, etag=etag)
            except WriteConflict:
                if attempt == attempts - 1:
                    raise
                # Jittered backoff so two writers that collided do not collide again in step.
                sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
        raise AssertionError("unreachable")


class CachedBlob(Generic[T]):
    """One object, decoded once and re-read only when its ETag has changed, checked at most every
    ``check_every_s`` seconds. A missing object decodes as ``empty()``."""

    def __init__(
        self,
        store: BlobStore,
        key: str,
        decode: Callable[[bytes], T],
        empty: Callable[[], T],
        *,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.key = key
        self._decode = decode
        self._empty = empty
        self._check_every_s = check_every_s
        self._clock = clock
        self._value: T | None = None
        self._etag: str | None = None
        self._checked_at = -float("inf")
        self._lock = threading.Lock()

    @property
    def etag(self) -> str | None:
        return self._etag

    def get(self) -> T:
        with self._lock:
            now = self._clock()
            if self._value is None or now - self._checked_at >= self._check_every_s:
                self._refresh()
                self._checked_at = now
            assert self._value is not None
            return self._value

    def _refresh(self) -> None:
        known = self._etag if self._value is not None else None
        found = self._store.get(self.key, if_none_match=known)
        if found is UNCHANGED:
            return
        if found is None:
            self._value, self._etag = self._empty(), None
        else:
            self._value, self._etag = self._decode(found.data), found.etag


def snapshot_key(region: str, space: str, shop_id: str | None = None) -> str:
    for name in (region, space, shop_id):
        if name is not None and not _NAME.match(name):
            raise ValueError(f"{name!r} cannot name an index snapshot")
    base = f"indexes/{region}/{space}"
    return f"{base}/region.idx" if shop_id is None else f"{base}/shops/{shop_id}.idx"


class SnapshotStore:
    """The ANN snapshots of one region: cached for queries, updated for the indexer."""

    def __init__(
        self,
        blobs: BlobStore,
        region: str,
        dimensions: dict[str, int],
        *,
        params: HnswParams | None = None,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        cached_shops: int = 64,
    ) -> None:
        self._blobs = blobs
        self._region = region
        self._dimensions = dict(dimensions)
        self._params = params
        self._check_every_s = check_every_s
        self._clock = clock
        self._cached_shops = cached_shops
        self._cache: OrderedDict[str, CachedBlob[AnnIndex]] = OrderedDict()
        self._lock = threading.Lock()
        self._logger = get_logger()

    def index(self, space: str, shop_id: str | None = None) -> AnnIndex:
        """The latest snapshot (re-read when its ETag changed); an empty index where there is none.

        The index is shared by every caller: treat it as read-only.
        """
        key = snapshot_key(self._region, space, shop_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                cached = CachedBlob(
                    self._blobs,
                    key,
                    decode=lambda data, s=space: self._decode(s, data),
                    empty=lambda s=space: self._empty(s),
                    check_every_s=self._check_every_s,
                    clock=self._clock,
                )
                self._cache[key] = cached
            self._cache.move_to_end(key)
            # The region snapshots stay; the least recently used shops go.
            shops = [name for name in self._cache if "/shops/" in name]
            for stale in shops[: max(0, len(shops) - self._cached_shops)]:
                del self._cache[stale]
        return cached.get()

    def update(
        self, space: str, shop_id: str | None, upserts: Sequence[VectorRecord], deletes: Sequence[str]
    ) -> Blob:
        """Apply changes to one snapshot with a conditional write, re-applying them on a conflict."""

        def change(data: bytes | None) -> bytes:
            index = self._decode(space, data) if data is not None else self._empty(space)
            index.delete(deletes)
            index.upsert(upserts)
            return index.to_bytes()

        return self._blobs.update(snapshot_key(self._region, space, shop_id), change)

    def _empty(self, space: str) -> AnnIndex:
        return AnnIndex(self._dimensions_of(space), self._params)

    def _dimensions_of(self, space: str) -> int:
        if space not in self._dimensions:
            raise ValueError(f"unknown index space {space!r}; known: {sorted(self._dimensions)}")
        return self._dimensions[space]

    def _decode(self, space: str, data: bytes) -> AnnIndex:
        try:
            index = AnnIndex.from_bytes(data, self._params)
        except SnapshotFormatError as error:
            # Unreadable (an older format, a damaged object): search answers from an empty index
            # and the next write replaces it; re-indexing fills it again.
            self._logger.warning("Index snapshot unreadable, starting empty", extra={"reason": str(error)})
            return self._empty(space)
        if index.dimensions != self._dimensions_of(space):
            # The model changed: vectors of another model are meaningless here, never mixed in.
            self._logger.warning(
                "Index snapshot of another model's dimensions, starting empty",
                extra={"space": space, "found": index.dimensions, "expected": self._dimensions_of(space)},
            )
            return self._empty(space)
        return index
