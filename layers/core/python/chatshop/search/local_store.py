"""The local-feature indexes of one region in S3, beside the vector snapshots, kept as safely:
read by ETag, written with conditional writes that are re-applied on a conflict.

::

    indexes/{region}/local/vocabulary.voc        the region's visual words, one object, written once
    indexes/{region}/local/region.idx            every image of the region, labelled with its country
    indexes/{region}/local/shops/{shop_id}.idx   one shop's images

The snapshots are saved without the vocabulary (1 MB that every shop's snapshot would repeat) and
name its digest; one of another vocabulary reads as empty, never mixed in.

The vocabulary is learned at the region's first build, from the product images of the first
indexer batch that has any, with a fixed seed: the same images give the same words. It is written
with ``IfNoneMatch='*'``, so of two indexers that learn at once the first one's words are kept and
the other one indexes with them. It is not relearned as the catalog grows: the snapshots keep word
ids, not descriptors, so new words would mean extracting every image again (``bench/search_quality.py``
measures what a vocabulary learned from a handful of images costs in recall).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.observability import get_logger
from chatshop.search.local_features import (
    Features,
    LocalFeatureIndex,
    LocalFeatureParams,
    LocalFormatError,
    encode,
)
from chatshop.search.local_vocabulary import Vocabulary, VocabularyFormatError
from chatshop.search.snapshots import (
    DEFAULT_CHECK_EVERY_S,
    UNCHANGED,
    BlobStore,
    CachedBlob,
    WriteConflict,
    snapshot_key,
)

__all__ = [
    "LOCAL_SPACE",
    "LocalFeatureStore",
    "LocalImage",
    "VOCABULARY_SEED",
    "local_store_for",
    "vocabulary_key",
]

LOCAL_SPACE = "local"
VOCABULARY_SEED = 0
# Enough descriptors for every leaf of the tree to be a centre of its own (64 x 64 words, a few
# each); more only slows the first build down.
VOCABULARY_SAMPLE = 200_000


@dataclass(frozen=True)
class LocalImage:
    """One product image to index: its key (product:image), its country, its features."""

    key: str
    country: str
    features: Features


T = TypeVar("T")


@dataclass(frozen=True)
class _Held(Generic[T]):
    """A cached value that may be absent: the cache tells "no object" from "not read yet"."""

    value: T | None


def vocabulary_key(region: str) -> str:
    return snapshot_key(region, LOCAL_SPACE).rsplit("/", 1)[0] + "/vocabulary.voc"


class LocalFeatureStore:
    """Cached for queries, updated for the indexer. Keep one per container: it caches."""

    def __init__(
        self,
        blobs: BlobStore,
        region: str,
        *,
        params: LocalFeatureParams | None = None,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        cached_shops: int = 64,
    ) -> None:
        self._blobs = blobs
        self._region = region
        self.params = params or LocalFeatureParams()
        self._check_every_s = check_every_s
        self._clock = clock
        self._cached_shops = cached_shops
        self._vocabulary = self._cached_vocabulary()
        self._cache: OrderedDict[str, CachedBlob[_Held[LocalFeatureIndex]]] = OrderedDict()
        self._lock = threading.Lock()
        self._logger = get_logger()

    # --- queries --------------------------------------------------------------------------------

    def vocabulary(self) -> Vocabulary | None:
        """The region's vocabulary; None before the first image was indexed."""
        return self._vocabulary.get().value

    def index(self, shop_id: str | None = None) -> LocalFeatureIndex | None:
        """The shop's index (the region's for None), re-read when its ETag changed; None while the
        region has no vocabulary. Shared by every caller: treat it as read-only."""
        vocabulary = self.vocabulary()
        if vocabulary is None:
            return None
        key = snapshot_key(self._region, LOCAL_SPACE, shop_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                cached = CachedBlob(
                    self._blobs,
                    key,
                    decode=lambda data: _Held(self._decode_index(data)),
                    empty=lambda: _Held(None),
                    check_every_s=self._check_every_s,
                    clock=self._clock,
                )
                self._cache[key] = cached
            self._cache.move_to_end(key)
            shops = [name for name in self._cache if "/shops/" in name]
            for stale in shops[: max(0, len(shops) - self._cached_shops)]:
                del self._cache[stale]
        index = cached.get().value
        if index is None or index.vocabulary.digest != vocabulary.digest:
            # No snapshot yet, or one of a vocabulary replaced since: nothing to match against.
            return LocalFeatureIndex(vocabulary, self.params)
        return index

    # --- the indexer ----------------------------------------------------------------------------

    def apply(self, shop_id: str, upserts: Sequence[LocalImage], deletes: Sequence[str]) -> None:
        """Index ``upserts`` and remove ``deletes`` (image keys) in the shop's snapshot and the region's."""
        if not upserts and not deletes:
            return
        vocabulary = self.vocabulary_for(upserts) if upserts else self.vocabulary()
        if vocabulary is None:
            return  # nothing was ever indexed in this region, and these images have no features
        # Words assigned once for both snapshots.
        encoded = [(image.key, image.country, encode(image.features, vocabulary)) for image in upserts]

        def change(data: bytes | None) -> bytes:
            index = self._read_for_update(data, vocabulary)
            index.delete(deletes)
            for key, country, words in encoded:
                index.upsert(key, words, country)
            return index.to_bytes(with_vocabulary=False)

        for snapshot in (shop_id, None):
            self._blobs.update(snapshot_key(self._region, LOCAL_SPACE, snapshot), change)

    def vocabulary_for(self, images: Sequence[LocalImage]) -> Vocabulary | None:
        """The region's vocabulary, learned from ``images`` if it has none yet; None when it has
        none and these images have no features (flat colours) to learn from."""
        current = self.vocabulary()
        if current is not None:
            return current
        descriptors = [image.features.descriptors for image in images if len(image.features)]
        if not descriptors:
            return None
        learned = Vocabulary.learn(
            np.concatenate(descriptors),
            branching=self.params.branching,
            depth=self.params.depth,
            seed=VOCABULARY_SEED,
            sample=VOCABULARY_SAMPLE,
        )
        key = vocabulary_key(self._region)
        try:
            self._blobs.put(key, learned.to_bytes(), if_match=None)
        except WriteConflict:
            # Another indexer learned first: its words are the region's.
            found = self._blobs.get(key)
            assert found is not UNCHANGED
            if found is None:
                raise
            return Vocabulary.from_bytes(found.data)
        self._logger.info(
            "Visual vocabulary learned",
            extra={"region": self._region, "images": len(descriptors), "words": learned.size},
        )
        self._vocabulary = self._cached_vocabulary()  # seen now, not after the next check
        return learned

    def _cached_vocabulary(self) -> CachedBlob[_Held[Vocabulary]]:
        return CachedBlob(
            self._blobs,
            vocabulary_key(self._region),
            lambda data: _Held(self._decode_vocabulary(data)),
            lambda: _Held(None),
            check_every_s=self._check_every_s,
            clock=self._clock,
        )

    def _read_for_update(self, data: bytes | None, vocabulary: Vocabulary) -> LocalFeatureIndex:
        if data is not None:
            try:
                return LocalFeatureIndex.from_bytes(data, self.params, vocabulary=vocabulary)
            except LocalFormatError as error:
                self._logger.warning(
                    "Local-feature snapshot unreadable, starting empty", extra={"reason": str(error)}
                )
        return LocalFeatureIndex(vocabulary, self.params)

    def _decode_index(self, data: bytes) -> LocalFeatureIndex | None:
        vocabulary = self.vocabulary()
        if vocabulary is None:
            return None
        try:
            return LocalFeatureIndex.from_bytes(data, self.params, vocabulary=vocabulary)
        except LocalFormatError as error:
            # An older format, a damaged object, another vocabulary: answered from an empty index
            # until the next write replaces it.
            self._logger.warning(
                "Local-feature snapshot unreadable, starting empty", extra={"reason": str(error)}
            )
            return None

    def _decode_vocabulary(self, data: bytes) -> Vocabulary | None:
        try:
            return Vocabulary.from_bytes(data)
        except VocabularyFormatError as error:
            self._logger.error("Visual vocabulary unreadable", extra={"reason": str(error)})
            return None


def local_store_for(settings: Settings) -> LocalFeatureStore:
    """The region's local-feature indexes in the search index bucket, whichever vector backend is used."""
    blobs = BlobStore(aws.client("s3", settings), settings.require("search_index_bucket"))
    return LocalFeatureStore(blobs, settings.region)
