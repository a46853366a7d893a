"""The local-feature indexes of one region in S3, beside the vector snapshots, kept as safely:
read by ETag, written with conditional writes that are re-applied on a conflict.

::

    indexes/{region}/local/vocabulary.json                the current vocabulary: its digest, and
                                                          how many images it was learned from
    indexes/{region}/local/vocabularies/{digest}.voc      every vocabulary, named by its digest
    indexes/{region}/local/region.idx                     every image of the region, labelled with its country
    indexes/{region}/local/shops/{shop_id}.idx            one shop's images

A snapshot names the digest of the vocabulary its words are of and is read with that one (kept,
never overwritten), so a search always sees a snapshot whole and consistent, whichever vocabulary
is current. A write turns a snapshot of an older vocabulary into the current one's words as it
goes: the snapshots keep each feature's compact descriptor (:mod:`chatshop.search.local_compact`),
from which a word is assigned again without the image.

The vocabulary is first learned from the product images of the first indexer batch that has any
(as many words as their features fill: a first batch of one flat picture gets under a hundred, not 16,384
words of one feature each, which a blurred photo of it would hardly meet; see
:func:`chatshop.search.local_features.vocabulary_branching`), and **learned again as the region
grows**: when the region's snapshot holds ``relearn_growth`` times as many images as the current
vocabulary was learned from, the indexer that wrote it learns
new words from the codes of every image in it (a fixed seed: the same snapshot gives the same
words), writes them, moves ``vocabulary.json`` to them (``IfMatch``: of two indexers that relearn
at once one moves it, the other keeps the winner's), and rewrites the region's snapshot and each
of its shops' with the new words, each a conditional update. A region whose first images were a few
flat test pictures so ends up with words learned from its real catalog, after a doubling at most.
The cost is one k-means over at most ``VOCABULARY_SAMPLE`` codes and a word per stored feature, at
catalog sizes that double each time (so a handful of times in a region's life), and no more once
the words were learned from ``RELEARN_UNTIL`` images.
"""

from __future__ import annotations

import contextlib
import json
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
    compact,
    encode,
    learn_vocabulary,
    reencode,
    vocabulary_digest_of,
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
    "CurrentVocabulary",
    "LocalFeatureStore",
    "LocalImage",
    "VOCABULARY_SEED",
    "current_vocabulary_key",
    "local_store_for",
    "vocabulary_key",
]

LOCAL_SPACE = "local"
VOCABULARY_SEED = 0
# Enough codes for every leaf of the tree to be a centre of its own (128 x 128 words, a dozen
# each); more only slows a relearning down.
VOCABULARY_SAMPLE = 200_000
# Relearn when the region has this many times the images its words were learned from.
RELEARN_GROWTH = 2.0
# ... and at least this many more: a region of three images does not relearn at six.
RELEARN_MIN_IMAGES = 16
# ... and not once the words were learned from this many: relearning costs ~8 s of k-means and
# ~1.5 s a thousand images to re-assign (measured, one thread), which past ~50,000 images would not
# fit the indexer's 120 s, while words from 20,000 images of a catalog describe the rest of it.
RELEARN_UNTIL = 20_000


@dataclass(frozen=True)
class LocalImage:
    """One product image to index: its key (product:image), its country, its features."""

    key: str
    country: str
    features: Features


@dataclass(frozen=True)
class CurrentVocabulary:
    """What ``vocabulary.json`` says: the words new images get, and how many images taught them."""

    vocabulary: Vocabulary
    images: int
    etag: str | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class _Held(Generic[T]):
    """A cached value that may be absent: the cache tells "no object" from "not read yet"."""

    value: T | None


def _base(region: str) -> str:
    return snapshot_key(region, LOCAL_SPACE).rsplit("/", 1)[0]


def vocabulary_key(region: str, digest: str) -> str:
    return f"{_base(region)}/vocabularies/{digest}.voc"


def current_vocabulary_key(region: str) -> str:
    return f"{_base(region)}/vocabulary.json"


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
        relearn_growth: float = RELEARN_GROWTH,
        relearn_min_images: int = RELEARN_MIN_IMAGES,
        relearn_until: int = RELEARN_UNTIL,
    ) -> None:
        self._blobs = blobs
        self._region = region
        self.params = params or LocalFeatureParams()
        self._check_every_s = check_every_s
        self._clock = clock
        self._cached_shops = cached_shops
        self._relearn_growth = relearn_growth
        self._relearn_min_images = relearn_min_images
        self._relearn_until = relearn_until
        self._cache: OrderedDict[str, CachedBlob[_Held[LocalFeatureIndex]]] = OrderedDict()
        self._vocabularies: OrderedDict[str, Vocabulary] = OrderedDict()  # immutable: kept by digest
        self._lock = threading.Lock()
        self._logger = get_logger()

    # --- queries --------------------------------------------------------------------------------

    def index(self, shop_id: str | None = None) -> LocalFeatureIndex | None:
        """The shop's index (the region's for None), re-read when its ETag changed, with the words of
        the vocabulary it was written with; None before anything was indexed there. Shared by every
        caller: treat it as read-only."""
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
        return cached.get().value

    def vocabulary(self, digest: str) -> Vocabulary | None:
        """The vocabulary of that digest, read once (a digest's words never change)."""
        with self._lock:
            found = self._vocabularies.get(digest)
        if found is not None:
            return found
        blob = self._blobs.get(vocabulary_key(self._region, digest))
        assert blob is not UNCHANGED
        if blob is None:
            return None
        try:
            found = Vocabulary.from_bytes(blob.data)
        except VocabularyFormatError as error:
            self._logger.error("Visual vocabulary unreadable", extra={"reason": str(error)})
            return None
        if found.digest != digest:
            self._logger.error("Visual vocabulary is not the one its name says", extra={"digest": digest})
            return None
        with self._lock:
            self._vocabularies[digest] = found
            while len(self._vocabularies) > 4:
                self._vocabularies.popitem(last=False)
        return found

    def current(self) -> CurrentVocabulary | None:
        """The region's current vocabulary, read now (the indexer's view, never cached)."""
        blob = self._blobs.get(current_vocabulary_key(self._region))
        assert blob is not UNCHANGED
        if blob is None:
            return None
        try:
            pointer = json.loads(blob.data)
            digest, images = str(pointer["digest"]), int(pointer["images"])
        except (ValueError, KeyError, TypeError) as error:
            raise LocalFormatError("the region's vocabulary.json is unreadable") from error
        vocabulary = self.vocabulary(digest)
        if vocabulary is None:
            raise LocalFormatError(f"the region's current vocabulary {digest} is missing")
        return CurrentVocabulary(vocabulary, images, blob.etag)

    # --- the indexer ----------------------------------------------------------------------------

    def apply(self, shop_id: str, upserts: Sequence[LocalImage], deletes: Sequence[str]) -> None:
        """Index ``upserts`` and remove ``deletes`` (image keys) in the shop's snapshot and the
        region's; then relearn the words if the region has grown enough since they were learned."""
        if not upserts and not deletes:
            return
        current = self.vocabulary_for(upserts) if upserts else self.current()
        if current is None:
            return  # nothing was ever indexed in this region, and these images have no features
        vocabulary = current.vocabulary
        # Words assigned once for both snapshots.
        stored = self.params.stored_features
        encoded = [
            (image.key, image.country, encode(image.features, vocabulary, stored)) for image in upserts
        ]
        region: list[LocalFeatureIndex] = []

        def change(data: bytes | None) -> bytes:
            index = self._read_for_update(data, vocabulary)
            index.delete(deletes)
            for key, country, words in encoded:
                index.upsert(key, reencode(words, index.vocabulary), country)
            region[:] = [index]
            return index.to_bytes(with_vocabulary=False)

        self._blobs.update(snapshot_key(self._region, LOCAL_SPACE, shop_id), change)
        self._blobs.update(snapshot_key(self._region, LOCAL_SPACE), change)
        if self._due(current, len(region[0])):
            self.relearn(region[0], current)

    def vocabulary_for(self, images: Sequence[LocalImage]) -> CurrentVocabulary | None:
        """The region's current vocabulary, learned from ``images`` if it has none yet; None when it
        has none and these images have no features (flat colours) to learn from."""
        current = self.current()
        if current is not None:
            return current
        taught = [image for image in images if len(image.features)]
        if not taught:
            return None
        codes = np.concatenate([compact(image.features, self.params.compact_dimensions) for image in taught])
        learned = learn_vocabulary(codes, self.params, seed=VOCABULARY_SEED, sample=VOCABULARY_SAMPLE)
        return self._make_current(learned, len(taught), None) or self.current()

    def relearn(self, region: LocalFeatureIndex, current: CurrentVocabulary) -> Vocabulary | None:
        """New words from the codes of every image in ``region`` (the region's snapshot as just
        written), made current, and every snapshot of the region rewritten with them. None when
        another indexer moved the current vocabulary first (its words are kept)."""
        started = time.perf_counter()
        relearned = region.relearned(seed=VOCABULARY_SEED, sample=VOCABULARY_SAMPLE)
        learned = relearned.vocabulary
        if self._make_current(learned, len(region), current.etag) is None:
            return None
        shops = sorted({key.split("/", 1)[0] for key in region})
        for snapshot in [None, *shops]:
            try:
                self._blobs.update(
                    snapshot_key(self._region, LOCAL_SPACE, snapshot),
                    lambda data: self._rewritten(data, learned),
                )
            except ValueError:
                continue  # a key whose shop cannot name a snapshot: nothing of it was written there
        self._logger.info(
            "Visual vocabulary relearned",
            extra={
                "region": self._region,
                "images": len(region),
                "learned_from_before": current.images,
                "shops": len(shops),
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
        return learned

    def _due(self, current: CurrentVocabulary, images: int) -> bool:
        if current.images >= self._relearn_until:
            return False
        return images >= max(current.images * self._relearn_growth, current.images + self._relearn_min_images)

    def _make_current(self, learned: Vocabulary, images: int, etag: str | None) -> CurrentVocabulary | None:
        """Writes ``learned`` (once: it is named by its digest) and points vocabulary.json at it, if
        that is still at ``etag`` (None: if there is none yet). None if another indexer won."""
        # Already there: the same words, from the same images, written by another indexer.
        with contextlib.suppress(WriteConflict):
            self._blobs.put(vocabulary_key(self._region, learned.digest), learned.to_bytes(), if_match=None)
        pointer = json.dumps({"digest": learned.digest, "images": images}).encode()
        try:
            new_etag = self._blobs.put(current_vocabulary_key(self._region), pointer, if_match=etag)
        except WriteConflict:
            return None
        with self._lock:
            self._vocabularies[learned.digest] = learned
        self._logger.info(
            "Visual vocabulary learned",
            extra={"region": self._region, "images": images, "words": learned.size},
        )
        return CurrentVocabulary(learned, images, new_etag)

    def _rewritten(self, data: bytes | None, vocabulary: Vocabulary) -> bytes:
        return self._read_for_update(data, vocabulary).to_bytes(with_vocabulary=False)

    def _read_for_update(self, data: bytes | None, vocabulary: Vocabulary) -> LocalFeatureIndex:
        """The snapshot in ``data`` in the words it is to be written with: ``vocabulary``'s, or the
        region's current ones if they have moved on since ``vocabulary`` was read (a relearning
        by another indexer is never undone); an empty index if there is none or it is unreadable."""
        index = None
        if data is not None:
            try:
                index = self._decode(data)
            except LocalFormatError as error:
                self._logger.warning(
                    "Local-feature snapshot unreadable, starting empty", extra={"reason": str(error)}
                )
        target = vocabulary
        if index is not None and index.vocabulary.digest != vocabulary.digest:
            latest = self.current()
            target = latest.vocabulary if latest is not None else vocabulary
        if index is None:
            return LocalFeatureIndex(target, self.params)
        return index if index.vocabulary.digest == target.digest else index.reencoded(target)

    def _decode(self, data: bytes) -> LocalFeatureIndex:
        digest = vocabulary_digest_of(data)
        vocabulary = self.vocabulary(digest)
        if vocabulary is None:
            raise LocalFormatError(f"the snapshot's vocabulary {digest} is missing")
        return LocalFeatureIndex.from_bytes(data, self.params, vocabulary=vocabulary)

    def _decode_index(self, data: bytes) -> LocalFeatureIndex | None:
        try:
            return self._decode(data)
        except LocalFormatError as error:
            # An older format, a damaged object: answered from an empty index until the next write
            # replaces it.
            self._logger.warning(
                "Local-feature snapshot unreadable, starting empty", extra={"reason": str(error)}
            )
            return None


def local_store_for(settings: Settings) -> LocalFeatureStore:
    """The region's local-feature indexes in the search index bucket, whichever vector backend is used."""
    blobs = BlobStore(aws.client("s3", settings), settings.require("search_index_bucket"))
    return LocalFeatureStore(blobs, settings.region)
