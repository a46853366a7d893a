"""Photo-to-product matching with local features, no trained model needed: the product itself, found
in a customer's photo however it was cropped, turned, lit, tilted, recompressed or framed.

The classic instance-retrieval pipeline (Sivic and Zisserman's Video Google, Philbin et al.'s
spatial re-ranking), chosen because the untrained CLIP cannot tell one product from another and a
pretrained one cannot be had here, while SIFT needs no training and OpenCV's headless wheel has it:

1. **Features**: SIFT keypoints on the grey image scaled to ``max_side``, the strongest
   ``catalog_features`` per product image plus ``blurred_view_features`` from a blurred copy (so a
   soft photo meets features like its own), ``query_features`` for a photo (it holds clutter too);
   RootSIFT descriptors (L1-normalised, square-rooted: Arandjelović and Zisserman, 2012), whose
   Euclidean distance is the Hellinger kernel that matches SIFT histograms better.
2. **Words**: each descriptor becomes the id of its leaf in a vocabulary tree learned from the
   catalog's own descriptors (:mod:`chatshop.search.local_vocabulary`).
3. **Candidates**: an inverted index from word to the images holding it, scored by tf-idf cosine;
   a query touches only the postings of its own words, not every image.
4. **Verification**: for the best ``candidates``, features sharing a word are paired, the pairs
   are clustered by the similarity transform their keypoints' scale and angle imply (Lowe's Hough
   voting), and a RANSAC homography (``cv2.findHomography``, OpenCV's USAC variant) is fitted to the
   largest cluster. The score is the number of pairs that homography explains, counted once per
   spot on either side; below ``min_inliers`` nothing matched, which is what an unrelated photo or
   a flat colour (no features at all) gets. A weak best answer must also stand out from the other
   products' pictures, and a photo that verifies nothing is looked at once more, enlarged.

Per indexed image (at most ``stored_features`` features) a word id (u16 while the vocabulary has
65,536 words or fewer), the keypoint frame (x, y, scale, angle as u16) and the descriptor as
``compact_dimensions`` uint8 PCA coefficients are kept: 34 bytes a feature, ~10 KB an image on the
bench (``bench/search_quality.py``), 20 KB at most, so 10,000 images fit a function's memory. A new
vocabulary re-assigns the words from the stored codes, extracting nothing again.

Snapshot format (``to_bytes``/``from_bytes``), never pickle, since snapshots are read from S3:
``MAGIC | u32 header length | JSON header | u32 vocabulary length | vocabulary | u32 counts[slots] |
u32 words[total] | u16 frames[total, 4]``; the header names the format version, the parameters,
the vocabulary's digest, the keys by slot (``null`` for a free slot) and each slot's label (the
country a marketplace search filters on). The vocabulary may be left out (length 0) when it is
kept once beside many snapshots, as the search indexes do; reading such a snapshot needs that
vocabulary, and one of another digest is refused.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace

import numpy as np
from PIL import Image

from chatshop.search.local_compact import projection
from chatshop.search.local_vocabulary import Vocabulary

__all__ = [
    "FORMAT_VERSION",
    "Features",
    "catalog_features",
    "LocalFeatureIndex",
    "LocalFeatureParams",
    "LocalFormatError",
    "LocalMatch",
    "WordsAndFrames",
    "coefficients",
    "compact",
    "encode",
    "extract_features",
    "learn_vocabulary",
    "vocabulary_branching",
    "reencode",
    "stored_codes",
    "vocabulary_digest_of",
    "with_words",
]

MAGIC = b"CSLOC\x00"
FORMAT_VERSION = 4
_U32 = struct.Struct("<I")
# Frames as u16: x and y in 1/16 px (up to 4095 px a side, finer than RANSAC's tolerance), log2 of
# the scale in 1/4096 (offset by 8, so keypoints from 1/256 px to 2^8 px), angle in 1/128 degree.
_FRAME_SCALE = np.array([16.0, 16.0, 4096.0, 128.0], np.float32)
_LOG_SCALE_OFFSET = 8.0


class LocalFormatError(ValueError):
    """Bytes that are not a local-feature snapshot this code can read."""


@dataclass(frozen=True)
class LocalFeatureParams:
    """Measured in ``bench/search_quality.py``; see the figures there."""

    max_side: int = 512  # product pictures are scaled to this longest side before SIFT sees them
    query_max_side: int = 768  # and photos to this: more keeps a product that is small in a big scene
    min_side: int = 256  # and small ones up to this, so a thumbnail still yields features
    catalog_features: int = 600
    blurred_view_features: int = 150  # more per product image, from a blurred copy of it
    blurred_view_sigma: float = 4.0  # px at max_side
    # More from the colour-opponent channels: off, as on the bench they lifted flat drawn products
    # by 0.03 recall@1 for three times the query time and more false matches.
    colour_features: int = 0
    query_colour_features: int = 0
    query_features: int = 1500
    contrast_threshold: float = 0.02  # below OpenCV's 0.04: dim photos and flat prints keep features
    few_features: int = 100  # fewer than this, and the picture is looked at again with a lower threshold
    # Vocabulary tree: branching ** depth words. 128, not 64: at 10,000 images 4,096 words ranked the
    # photographed product among 24 candidates for 70% of photos; 16,384 words (sparser postings)
    # found 0.68 -> 0.745 first, p50 62 -> 45 ms; over 200 products the same (fewer words fill there).
    branching: int = 128
    depth: int = 2
    # Images verified per query, best tf-idf first. 48, not 24: at 10,000 images recall@1 0.750 ->
    # 0.780 for about the same p50 (59 -> 57 ms, load ~1.8); over 200 products 0.912 -> 0.914 and
    # strangers answered as often (11%).
    candidates: int = 48
    # Words per photo feature in verification (multiple assignment). One: on the bench, three found
    # more (recall@1 0.896 -> 0.938 at 16 inliers) but as many more strangers (false answers 0.13 ->
    # 0.48); at equal false answers (24 inliers, 0.11) they found no more (0.885).
    query_assignments: int = 1
    min_inliers: int = 16
    # A best answer with fewer inliers than this must have rival_ratio times the inliers of any
    # other item's picture, or nothing matched; see LocalFeatureIndex._answers. Not 1.5, which
    # kept out a few more strangers: a demo jacket's photo (17 inliers) has a sibling of the same
    # outline in another colour at 12.
    confident_inliers: int = 24
    rival_ratio: float = 1.35
    # A photo whose features verify nothing is looked at again this many times larger (1: never).
    # On the bench: products in a scene recall@1 0.755 -> 0.83, 9% of photos looked at twice.
    closer_look: float = 1.5
    ransac_threshold: float = 6.0  # px, in the photo as scaled to max_side
    max_pairs_per_word: int = 8  # a word repeated more (a texture, a font) pairs only this often
    inlier_cell: float = 4.0  # px: inliers closer than this on either side count once
    ransac: str = "usac_fast"  # OpenCV's USAC RANSAC: early exit on hopeless candidates, 3x faster
    ransac_iterations: int = 2000
    # Each kept feature's descriptor as this many uint8 PCA coefficients (:mod:`local_compact`): what
    # words are assigned from, relearned from, and nearest neighbours are found in.
    compact_dimensions: int = 24
    stored_features: int = 600  # at most this many per product image (the strongest): <= 20 KB each
    # The best few candidates are verified with nearest-neighbour pairs too (Lowe's ratio test on
    # the compact descriptors), not only with pairs of features that share a word: a drawn product
    # in a scene or a soft photo keeps too few exact words.
    nn_candidates: int = 8
    nn_ratio: float = 0.8


@dataclass(frozen=True)
class Features:
    positions: np.ndarray  # float32 (n, 2), x and y in pixels of the scaled picture
    scales: np.ndarray  # float32 (n,), the keypoint's diameter in those pixels
    angles: np.ndarray  # float32 (n,), its orientation in degrees
    descriptors: np.ndarray  # float32 (n, 128), RootSIFT

    def __len__(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class WordsAndFrames:
    """An image as the index keeps it: the word, quantised frame and compact descriptor of each feature."""

    words: np.ndarray  # u32 (n,)
    frames: np.ndarray  # float32 (n, 4): x, y, log2 scale (offset), angle
    codes: np.ndarray  # uint8 (n, compact dimensions)
    vocabulary: str  # the digest of the vocabulary that assigned the words

    def __len__(self) -> int:
        return len(self.words)


def compact(features: Features, dimensions: int) -> np.ndarray:
    """The features' descriptors as uint8 codes of the fixed projection."""
    return projection(dimensions).codes(features.descriptors)


def coefficients(codes: np.ndarray) -> np.ndarray:
    """Codes as the float vectors that words are learned and assigned from."""
    return projection(codes.shape[1]).coefficients(codes)


def encode(features: Features, vocabulary: Vocabulary, stored_features: int | None = None) -> WordsAndFrames:
    """What an index stores of ``features``: computed once, kept by a shop's index and the region's.
    The vocabulary works in the compact space, so its dimensions are the codes'."""
    return with_words(*stored_codes(features, vocabulary.dimensions, stored_features), vocabulary)


def stored_codes(
    features: Features, dimensions: int, stored_features: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The codes and quantised frames an index keeps of ``features`` (the strongest
    ``stored_features``): all of an image but its words, so they can be kept before any vocabulary."""
    if stored_features is not None and len(features) > stored_features:
        features = _first(features, stored_features)
    return compact(features, dimensions), _quantise(_frames(features))


def with_words(codes: np.ndarray, frames: np.ndarray, vocabulary: Vocabulary) -> WordsAndFrames:
    """Stored codes and frames (:func:`stored_codes`) with the words ``vocabulary`` gives them."""
    return WordsAndFrames(vocabulary.assign(coefficients(codes)), frames, codes, vocabulary.digest)


def reencode(image: WordsAndFrames, vocabulary: Vocabulary) -> WordsAndFrames:
    """The same features with the words ``vocabulary`` gives their stored codes: a relearned
    vocabulary needs no image extracted again."""
    if image.vocabulary == vocabulary.digest:
        return image
    return WordsAndFrames(
        vocabulary.assign(coefficients(image.codes)), image.frames, image.codes, vocabulary.digest
    )


def _first(features: Features, count: int) -> Features:
    return Features(
        features.positions[:count],
        features.scales[:count],
        features.angles[:count],
        features.descriptors[:count],
    )


@dataclass(frozen=True)
class LocalMatch:
    key: str
    inliers: int  # the score: catalog features that the verified homography maps onto the photo's
    similarity: float  # tf-idf cosine of the candidate stage, for ties and diagnostics


def extract_features(
    image: Image.Image | np.ndarray,
    limit: int,
    params: LocalFeatureParams,
    *,
    blurred_limit: int = 0,
    colour_limit: int = 0,
    max_side: int | None = None,
) -> Features:
    """The ``limit`` strongest SIFT features of ``image`` (a PIL picture or an RGB/grey array); with
    ``blurred_limit``, that many more from a blurred copy of it; with ``colour_limit``, that many
    more from its two colour-opponent channels."""
    import cv2

    pixels = _scaled(image, params, max_side or params.max_side)
    grey = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    parts = [_sift(cv2, grey, limit, params.contrast_threshold)]
    if len(parts[0]) < params.few_features:
        # Soft photos (blur, dim light, a small JPEG scaled up) have weak extrema everywhere: with
        # the usual threshold they would offer too few features to verify a match.
        parts = [_sift(cv2, grey, limit, params.contrast_threshold / 4)]
    if blurred_limit and len(parts[0]):
        # A blurred or out-of-focus photo keeps few of the sharp picture's features, and those it
        # keeps describe differently; features of a blurred view of the product image meet it halfway.
        sigma = params.blurred_view_sigma * max(grey.shape) / params.max_side
        parts.append(
            _sift(cv2, cv2.GaussianBlur(grey, (0, 0), sigma), blurred_limit, params.contrast_threshold / 4)
        )
    if colour_limit and pixels.ndim == 3:
        # Flat printed colours of equal brightness are one grey: their edges and corners exist only
        # in colour (red against green, yellow against blue).
        for channel in _opponent(pixels):
            parts.append(_sift(cv2, channel, colour_limit // 2, params.contrast_threshold))
    if len(parts) == 1:
        return parts[0]
    return Features(
        np.concatenate([part.positions for part in parts]),
        np.concatenate([part.scales for part in parts]),
        np.concatenate([part.angles for part in parts]),
        np.concatenate([part.descriptors for part in parts]),
    )


def _opponent(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rgb = pixels.astype(np.float32)
    red_green = (rgb[..., 0] - rgb[..., 1]) / 2 + 128
    yellow_blue = (rgb[..., 0] + rgb[..., 1] - 2 * rgb[..., 2]) / 4 + 128
    return tuple(np.clip(c, 0, 255).astype(np.uint8) for c in (red_green, yellow_blue))


def catalog_features(image: Image.Image | np.ndarray, params: LocalFeatureParams) -> Features:
    """What a product image is indexed by."""
    return extract_features(
        image,
        params.catalog_features,
        params,
        blurred_limit=params.blurred_view_features,
        colour_limit=params.colour_features,
    )


_NO_FEATURES = Features(
    np.zeros((0, 2), np.float32),
    np.zeros(0, np.float32),
    np.zeros(0, np.float32),
    np.zeros((0, 128), np.float32),
)


def _sift(cv2, grey: np.ndarray, limit: int, contrast_threshold: float) -> Features:
    sift = cv2.SIFT_create(nfeatures=limit, contrastThreshold=contrast_threshold)
    keypoints, descriptors = sift.detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return _NO_FEATURES
    # SIFT may return a few more than asked (ties in response, keypoints with two orientations).
    keypoints, descriptors = keypoints[:limit], descriptors[:limit]
    descriptors = descriptors.astype(np.float32)
    descriptors /= np.maximum(descriptors.sum(axis=1, keepdims=True), 1e-7)
    positions = np.array([k.pt for k in keypoints], dtype=np.float32)
    scales = np.array([k.size for k in keypoints], dtype=np.float32)
    angles = np.array([k.angle for k in keypoints], dtype=np.float32)
    return Features(positions, scales, angles, np.sqrt(descriptors))


def _scaled(image: Image.Image | np.ndarray, params: LocalFeatureParams, max_side: int) -> np.ndarray:
    """uint8 RGB (or grey, if given grey) with its longest side brought within min_side..max_side."""
    import cv2

    if isinstance(image, Image.Image):
        pixels = np.asarray(image if image.mode in ("RGB", "L") else image.convert("RGB"))
    else:
        pixels = np.asarray(image)
        if pixels.ndim == 3:
            pixels = pixels[:, :, :3]
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    longest = max(pixels.shape[:2])
    if longest == 0:
        return pixels
    scale = 1.0
    if longest > max_side:
        scale = max_side / longest
    elif longest < params.min_side:
        scale = params.min_side / longest
    if scale != 1.0:
        size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        pixels = cv2.resize(pixels, size, interpolation=interpolation)
    return pixels


def _enlarged(image: Image.Image | np.ndarray, factor: float, params: LocalFeatureParams) -> np.ndarray:
    """``image`` at ``factor`` times the size the first look saw it at (its longest side brought
    within ``min_side`` .. ``query_max_side``), in one resize: a big phone photo is brought down,
    never enlarged first (40 megapixels would become 90), and a thumbnail the first look already
    enlarged to ``min_side`` is not seen at that size again."""
    import cv2

    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode in ("RGB", "L") else image.convert("RGB"))
    longest = max(image.shape[:2], default=0)
    if longest == 0:
        return image
    seen = min(max(longest, params.min_side), params.query_max_side)
    scale = factor * seen / longest
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(image, dtype=np.uint8), size, interpolation=interpolation)


def _itself(key: str) -> str:
    return key


class LocalFeatureIndex:
    """Product images by key, searchable by photo. Thread-safe; queries may run concurrently."""

    def __init__(self, vocabulary: Vocabulary, params: LocalFeatureParams | None = None) -> None:
        self._vocabulary = vocabulary
        self._params = params or LocalFeatureParams()
        self._lock = threading.RLock()
        self._keys: list[str | None] = []
        self._slot_of: dict[str, int] = {}
        self._free: list[int] = []
        self._words: list[np.ndarray] = []  # by slot: u32 word ids
        self._frames: list[np.ndarray] = []  # by slot: float32 (n, 4): x, y, log2 scale, angle
        self._codes: list[np.ndarray] = []  # by slot: uint8 (n, compact dimensions)
        self._labels: list[str | None] = []  # by slot: what a query may be restricted to (a country)
        self._inverted: _Inverted | None = None  # rebuilt on the first query after a change

    @classmethod
    def learn(
        cls,
        images: Iterable[Image.Image | np.ndarray | Features],
        params: LocalFeatureParams | None = None,
        *,
        seed: int = 0,
    ) -> LocalFeatureIndex:
        """A vocabulary learned from ``images`` (a catalog, or a sample of it; or their features from
        :func:`catalog_features`, so a build extracts each image once) and an empty index."""
        params = params or LocalFeatureParams()
        codes = [
            compact(
                image if isinstance(image, Features) else catalog_features(image, params),
                params.compact_dimensions,
            )
            for image in images
        ]
        return cls(learn_vocabulary(np.concatenate(codes), params, seed=seed), params)

    def relearned(self, *, seed: int = 0, sample: int = 200_000) -> LocalFeatureIndex:
        """A copy of this index under a vocabulary learned from its own images' stored codes; the
        words of every image re-assigned, nothing extracted again. Deterministic for a seed."""
        with self._lock:
            codes = [c for c in self._codes if len(c)]
        if not codes:
            raise ValueError("an index without features has nothing to learn words from")
        vocabulary = learn_vocabulary(np.concatenate(codes), self._params, seed=seed, sample=sample)
        return self.reencoded(vocabulary)

    def reencoded(self, vocabulary: Vocabulary) -> LocalFeatureIndex:
        """A copy of this index with every image's words given by ``vocabulary``."""
        if vocabulary.dimensions != self._params.compact_dimensions:
            raise ValueError("the vocabulary's dimensions are not the codes' dimensions")
        copy = LocalFeatureIndex(vocabulary, self._params)
        with self._lock:
            copy._keys, copy._labels = list(self._keys), list(self._labels)
            copy._frames, copy._codes = list(self._frames), list(self._codes)
            copy._slot_of, copy._free = dict(self._slot_of), list(self._free)
        copy._words = [
            vocabulary.assign(coefficients(c)) if len(c) else np.zeros(0, np.uint32) for c in copy._codes
        ]
        return copy

    def images(self) -> list[tuple[str, str | None, WordsAndFrames]]:
        """Every indexed image as stored: key, label, words, frames and codes."""
        digest = self._vocabulary.digest
        with self._lock:
            return [
                (
                    key,
                    self._labels[slot],
                    WordsAndFrames(self._words[slot], self._frames[slot], self._codes[slot], digest),
                )
                for slot, key in enumerate(self._keys)
                if key is not None
            ]

    @property
    def params(self) -> LocalFeatureParams:
        return self._params

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: object) -> bool:
        return key in self._slot_of

    def __iter__(self) -> Iterator[str]:
        """The keys indexed now (a copy: changes after the call are not seen)."""
        with self._lock:
            return iter(list(self._slot_of))

    def features_of(
        self, image: Image.Image | np.ndarray, *, query: bool = False, enlarge: float = 1.0
    ) -> Features:
        """A product image's features, or with ``query`` a photo's, at ``enlarge`` times the size
        a first look sees it at (:func:`_enlarged`)."""
        if query:
            max_side = round(self._params.query_max_side * enlarge)
            if enlarge != 1.0:
                image = _enlarged(image, enlarge, self._params)
            return extract_features(
                image,
                self._params.query_features,
                self._params,
                colour_limit=self._params.query_colour_features,
                max_side=max_side,
            )
        return catalog_features(image, self._params)

    def upsert(
        self, key: str, image: Image.Image | np.ndarray | Features | WordsAndFrames, label: str | None = None
    ) -> int:
        """Index (or re-index) ``key``; returns how many features it kept (0: it can never match)."""
        if not isinstance(image, WordsAndFrames):
            image = encode(
                image if isinstance(image, Features) else self.features_of(image),
                self._vocabulary,
                self._params.stored_features,
            )
        elif image.vocabulary != self._vocabulary.digest:
            raise ValueError("the words were assigned by another vocabulary than this index's")
        words, frames, codes = image.words, image.frames, image.codes
        with self._lock:
            slot = self._slot_of.get(key)
            if slot is None:
                slot = self._free.pop() if self._free else len(self._keys)
                if slot == len(self._keys):
                    self._keys.append(key)
                    self._words.append(words)
                    self._frames.append(frames)
                    self._codes.append(codes)
                    self._labels.append(label)
                self._slot_of[key] = slot
            self._keys[slot] = key
            self._words[slot], self._frames[slot], self._labels[slot] = words, frames, label
            self._codes[slot] = codes
            self._inverted = None
        return len(words)

    def delete(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                slot = self._slot_of.pop(key, None)
                if slot is None:
                    continue
                self._keys[slot] = None
                self._words[slot] = np.zeros(0, np.uint32)
                self._frames[slot] = np.zeros((0, 4), np.float32)
                self._codes[slot] = np.zeros((0, self._params.compact_dimensions), np.uint8)
                self._labels[slot] = None
                self._free.append(slot)
            self._inverted = None

    def query(
        self,
        image: Image.Image | np.ndarray | Features,
        limit: int = 5,
        *,
        label: str | None = None,
        only: Collection[str] | None = None,
        photo: Image.Image | np.ndarray | None = None,
        item_of: Callable[[str], Hashable] | None = None,
    ) -> list[LocalMatch]:
        """Verified matches, most inliers first; an empty list means nothing matched.

        ``label``: only images indexed with that label (a country of the region's marketplace).
        ``only``: only these keys (the images another ranker proposed), the best ``candidates`` of
        them by tf-idf verified. ``photo``: the picture ``image``'s features came from, when they
        are given, so it can be looked at again closer (``closer_look``). ``item_of``: what an
        image's key is a picture of (a product), so a product's other pictures are not taken for a
        rival when a weak answer is weighed (``rival_ratio``); by default every key its own."""
        features = image if isinstance(image, Features) else self.features_of(image, query=True)
        if photo is None and not isinstance(image, Features):
            photo = image
        if len(features) < 4:
            return []
        verified = self._verified(features, label, only)
        looked = max((inliers for inliers, _ in verified.values()), default=0)
        if photo is not None and self._params.closer_look > 1 and looked < self._params.min_inliers:
            # Nothing verified: the product may be small in a big photo (a scene), its finest
            # features below SIFT's first scale there. Enlarged, they come back; the product image
            # was indexed at its own size, which the enlarged product comes nearer to.
            closer = self.features_of(photo, query=True, enlarge=self._params.closer_look)
            if len(closer) >= 4:
                for key, found in self._verified(closer, label, only).items():
                    verified[key] = max(verified.get(key, found), found)
        return self._answers(verified, limit, item_of or _itself)

    def _verified(
        self, features: Features, label: str | None, only: Collection[str] | None
    ) -> dict[str, tuple[int, float]]:
        """Every verified candidate's (inliers, tf-idf similarity) by key, however few its inliers."""
        import cv2

        # The photo's descriptors go through the same codes as the indexed images', so both sides
        # of a word or a nearest neighbour are quantised alike.
        vectors = coefficients(compact(features, self._params.compact_dimensions))
        words = scored = self._vocabulary.assign(vectors)
        frames = _frames(features)
        if self._params.query_assignments > 1:
            # Verification pairs each feature of the photo by its nearest few words, not its one:
            # a soft photo's feature often lands beside its product's word (Jégou et al., 2010).
            # Candidates are still scored by the one word, as the images were indexed.
            count = self._params.query_assignments
            words = self._vocabulary.assign_nearest(vectors, count).reshape(-1)
        with self._lock:
            inverted = self._inverted or self._rebuild()
            # Copies of the slot tables (references, not arrays): a concurrent upsert or delete
            # then changes what the next query sees, never this one halfway.
            keys, stored_words, stored_frames = list(self._keys), list(self._words), list(self._frames)
            stored_codes = list(self._codes)
            allowed = inverted.allowed(self._labels, label) if label is not None else None
            if only is not None:
                chosen = np.zeros(len(keys), bool)
                chosen[[self._slot_of[key] for key in only if key in self._slot_of]] = True
                allowed = chosen if allowed is None else allowed & chosen
        similarity = inverted.score(scored)
        if allowed is not None:
            # Filtered before the candidates are chosen, so another country's images take no place.
            similarity = np.where(allowed, similarity, 0)
        ranked = np.argsort(-similarity, kind="stable")[: self._params.candidates]
        verified = {}
        for place, slot in enumerate(ranked):
            if similarity[slot] <= 0:
                break
            if keys[slot] is None:
                continue
            pairs = _word_pairs(stored_words[slot], words, self._params)
            if self._params.query_assignments > 1:
                pairs = (pairs[0], pairs[1] // self._params.query_assignments)
            if place < self._params.nn_candidates:
                near = _nearest_pairs(cv2, coefficients(stored_codes[slot]), vectors, self._params.nn_ratio)
                pairs = (np.concatenate([pairs[0], near[0]]), np.concatenate([pairs[1], near[1]]))
            inliers = _verify(cv2, stored_frames[slot], frames, pairs, self._params)
            verified[str(keys[slot])] = (inliers, float(similarity[slot]))
        return verified

    def _answers(
        self, verified: dict[str, tuple[int, float]], limit: int, item_of: Callable[[str], Hashable]
    ) -> list[LocalMatch]:
        """The verified candidates that count as matches, most inliers first.

        A weak best answer (under ``confident_inliers``) stands only if no other item's picture
        came near it: a product that is not in the catalog often verifies a few of the ~20 inliers
        a match needs on several look-alikes at once, while a weakly seen product that is there
        stands out from the rest (on the bench, with the closer look: strangers answered 23% -> 11%
        for recall@1 0.914 -> 0.913)."""
        ranked = sorted(
            (LocalMatch(key, inliers, similarity) for key, (inliers, similarity) in verified.items()),
            key=lambda m: (-m.inliers, -m.similarity),
        )
        if not ranked or ranked[0].inliers < self._params.min_inliers:
            return []
        best = ranked[0]
        if best.inliers < self._params.confident_inliers:
            item = item_of(best.key)
            rival = max((m.inliers for m in ranked[1:] if item_of(m.key) != item), default=0)
            if best.inliers < self._params.rival_ratio * rival:
                return []
        return [m for m in ranked if m.inliers >= self._params.min_inliers][:limit]

    def label_of(self, key: str) -> str | None:
        slot = self._slot_of.get(key)
        return None if slot is None else self._labels[slot]

    def _rebuild(self) -> _Inverted:
        self._inverted = _Inverted(self._words, self._vocabulary.size)
        return self._inverted

    # --- snapshots ------------------------------------------------------------------------------

    def image_bytes(self) -> int:
        """Bytes the snapshot spends on its images (not the vocabulary): the cost of one more image."""
        with self._lock:
            total = sum(len(w) for w in self._words)
            per_feature = self._word_bytes() + 8 + self._params.compact_dimensions
            return len(self._header()) + 4 * len(self._keys) + per_feature * total

    def _word_bytes(self) -> int:
        return 2 if self._vocabulary.size <= 1 << 16 else 4

    def to_bytes(self, *, with_vocabulary: bool = True) -> bytes:
        """The snapshot; ``with_vocabulary=False`` leaves the vocabulary out (kept elsewhere, once)."""
        with self._lock:
            header = self._header()
            vocabulary = self._vocabulary.to_bytes() if with_vocabulary else b""
            counts = np.array([len(w) for w in self._words], dtype="<u4")
            words = np.concatenate([*self._words, np.zeros(0, np.uint32)]).astype(f"<u{self._word_bytes()}")
            frames = np.concatenate([*self._frames, np.zeros((0, 4), np.float32)])
            codes = np.concatenate([*self._codes, np.zeros((0, self._params.compact_dimensions), np.uint8)])
            return b"".join(
                (
                    MAGIC,
                    _U32.pack(len(header)),
                    header,
                    _U32.pack(len(vocabulary)),
                    vocabulary,
                    counts.tobytes(),
                    words.tobytes(),
                    np.round(frames * _FRAME_SCALE).astype("<u2").tobytes(),
                    codes.astype(np.uint8).tobytes(),
                )
            )

    def _header(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "params": asdict(self._params),
                "vocabulary": self._vocabulary.digest,
                "keys": self._keys,
                "labels": self._labels,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_bytes(
        cls, data: bytes, params: LocalFeatureParams | None = None, *, vocabulary: Vocabulary | None = None
    ) -> LocalFeatureIndex:
        """Read a snapshot; ``params`` overrides the query-time settings stored in it; ``vocabulary``
        is the one kept beside a snapshot saved without its own (and must be the one it was made with)."""
        view = memoryview(data)
        if bytes(view[: len(MAGIC)]) != MAGIC:
            raise LocalFormatError("not a local-feature snapshot")
        try:
            offset = len(MAGIC)
            (length,) = _U32.unpack_from(view, offset)
            header = json.loads(bytes(view[offset + 4 : offset + 4 + length]))
            offset += 4 + length
            if header["format"] != FORMAT_VERSION:
                raise LocalFormatError(f"format {header['format']} is not {FORMAT_VERSION}")
            stored = LocalFeatureParams(**header["params"])
            keys = list(header["keys"])
            labels = list(header["labels"])
            if len(labels) != len(keys):
                raise LocalFormatError("the snapshot's labels do not match its keys")
            (length,) = _U32.unpack_from(view, offset)
            if length:
                vocabulary = Vocabulary.from_bytes(bytes(view[offset + 4 : offset + 4 + length]))
            elif vocabulary is None:
                raise LocalFormatError("the snapshot was saved without its vocabulary; pass it")
            if vocabulary.digest != header["vocabulary"]:
                raise LocalFormatError("the snapshot's words are of another vocabulary")
            offset += 4 + length
        except (KeyError, TypeError, ValueError, struct.error) as exc:
            if isinstance(exc, LocalFormatError):
                raise
            raise LocalFormatError("the snapshot's header is unreadable") from exc
        if vocabulary.dimensions != stored.compact_dimensions:
            raise LocalFormatError("the vocabulary's dimensions are not the snapshot's codes'")
        slots = len(keys)
        counts = _array(view, offset, slots, "<u4").astype(np.int64)
        offset += 4 * slots
        total = int(counts.sum())
        index = cls(vocabulary, replace(stored, **_query_settings(params)) if params else stored)
        width = index._word_bytes()
        words = _array(view, offset, total, f"<u{width}").astype(np.uint32)
        offset += width * total
        frames = _array(view, offset, 4 * total, "<u2").reshape(-1, 4).astype(np.float32) / _FRAME_SCALE
        offset += 8 * total
        dimensions = stored.compact_dimensions
        codes = _array(view, offset, dimensions * total, "u1").reshape(-1, dimensions)
        if offset + dimensions * total != len(view):
            raise LocalFormatError("the snapshot's feature tables do not match its header")
        if total and int(words.max()) >= vocabulary.size:
            raise LocalFormatError("a word id is outside the vocabulary")
        bounds = np.concatenate([[0], np.cumsum(counts)])
        index._keys = keys
        index._labels = labels
        index._words = [words[bounds[i] : bounds[i + 1]] for i in range(slots)]
        index._frames = [frames[bounds[i] : bounds[i + 1]] for i in range(slots)]
        index._codes = [codes[bounds[i] : bounds[i + 1]] for i in range(slots)]
        index._slot_of = {key: slot for slot, key in enumerate(keys) if key is not None}
        index._free = [slot for slot, key in enumerate(keys) if key is None]
        return index


def vocabulary_digest_of(data: bytes) -> str:
    """The digest of the vocabulary a snapshot's words are of, read from its header alone."""
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise LocalFormatError("not a local-feature snapshot")
    try:
        (length,) = _U32.unpack_from(view, len(MAGIC))
        header = json.loads(bytes(view[len(MAGIC) + 4 : len(MAGIC) + 4 + length]))
        if header["format"] != FORMAT_VERSION:
            raise LocalFormatError(f"format {header['format']} is not {FORMAT_VERSION}")
        return str(header["vocabulary"])
    except (KeyError, TypeError, ValueError, struct.error) as exc:
        if isinstance(exc, LocalFormatError):
            raise
        raise LocalFormatError("the snapshot's header is unreadable") from exc


def _query_settings(params: LocalFeatureParams) -> dict:
    # What was extracted and how it was quantised belongs to the snapshot; only search settings change.
    return {
        name: getattr(params, name)
        for name in (
            "query_features",
            "query_max_side",
            "candidates",
            "query_assignments",
            "min_inliers",
            "confident_inliers",
            "rival_ratio",
            "closer_look",
            "ransac_threshold",
            "max_pairs_per_word",
            "nn_candidates",
            "nn_ratio",
        )
    }


def learn_vocabulary(
    codes: np.ndarray, params: LocalFeatureParams, *, seed: int = 0, sample: int = 200_000
) -> Vocabulary:
    """Words learned from stored codes (a region's images, or a first batch's), as many as the
    codes can fill (:func:`vocabulary_branching`)."""
    branching = vocabulary_branching(min(len(codes), sample), params)
    return Vocabulary.learn(
        coefficients(codes), branching=branching, depth=params.depth, seed=seed, sample=sample
    )


# Descriptors a word is learned from, at least, on average. With fewer, most words are one feature
# of one picture: a region whose words came from its first few images (the demo's twelve flat
# drawings, one of them alone when it arrived by itself) then pairs a soft photo's features with
# almost none of its product's, and its photos fell below ``min_inliers``. Measured on the demo's
# customer photos (tests/unit/search/test_demo_photos.py): 4096 words from one drawing, the black
# tee's photo had 15 verified inliers; 8 per word (256 words), 19 to 21.
DESCRIPTORS_PER_WORD = 8
MIN_BRANCHING = 8


def vocabulary_branching(descriptors: int, params: LocalFeatureParams) -> int:
    """The tree's branching for ``descriptors``: ``params.branching`` once they fill its words (from
    about 131,000 descriptors, four hundred images), fewer words before; relearning as the region
    grows (:mod:`chatshop.search.local_store`) brings it up to the full vocabulary."""
    fill = (max(descriptors, 1) / DESCRIPTORS_PER_WORD) ** (1 / params.depth)
    return int(min(params.branching, max(MIN_BRANCHING, fill)))


def _array(view: memoryview, offset: int, count: int, dtype: str) -> np.ndarray:
    size = np.dtype(dtype).itemsize * count
    if offset + size > len(view):
        raise LocalFormatError("the snapshot is truncated")
    return np.frombuffer(view[offset : offset + size], dtype=dtype)


def _frames(features: Features) -> np.ndarray:
    """x, y, log2 of the scale (offset to stay positive) and angle: what verification needs."""
    return np.column_stack(
        [
            features.positions,
            np.log2(np.maximum(features.scales, 1e-3)) + _LOG_SCALE_OFFSET,
            np.mod(features.angles, 360.0),
        ]
    ).astype(np.float32)


def _quantise(frames: np.ndarray) -> np.ndarray:
    # Kept as the snapshot will give them back, so an index behaves the same before and after a save.
    top = 65535 / _FRAME_SCALE
    return np.round(np.clip(frames, 0, top) * _FRAME_SCALE) / _FRAME_SCALE


class _Inverted:
    """Postings by word, with tf-idf weights already divided by each image's norm."""

    def __init__(self, words_by_slot: list[np.ndarray], size: int) -> None:
        self.slots = len(words_by_slot)
        counts = np.array([len(w) for w in words_by_slot], dtype=np.int64)
        words = np.concatenate([*words_by_slot, np.zeros(0, np.uint32)]).astype(np.int64)
        owner = np.repeat(np.arange(self.slots), counts)
        # One posting per (word, image), its term frequency the number of times the word occurs.
        pair = np.unique(words * self.slots + owner, return_counts=True)
        word, image, tf = pair[0] // max(self.slots, 1), pair[0] % max(self.slots, 1), pair[1]
        documents = np.bincount(word, minlength=size)
        alive = max(int(np.count_nonzero(counts)), 1)
        # Smoothed, so a word in every image still counts: a shop with one product must find it.
        self.idf = np.log1p(alive / np.maximum(documents, 1)).astype(np.float32)
        weight = tf * self.idf[word]
        norms = np.sqrt(np.bincount(image, weights=weight**2, minlength=self.slots))
        self.weight = (weight / np.maximum(norms[image], 1e-12)).astype(np.float32)
        self.image = image.astype(np.int32)
        self.offsets = np.concatenate([[0], np.cumsum(documents)])  # pairs are sorted by word
        self._allowed: dict[str, np.ndarray] = {}

    def allowed(self, labels: list[str | None], label: str) -> np.ndarray:
        """Which slots hold ``label``: computed once per label until the index changes."""
        found = self._allowed.get(label)
        if found is None:
            found = self._allowed[label] = np.array([item == label for item in labels], bool)
        return found

    def score(self, words: np.ndarray) -> np.ndarray:
        unique, tf = np.unique(words.astype(np.int64), return_counts=True)
        weight = tf * self.idf[unique]
        norm = math.sqrt(float(np.sum(weight**2)))
        if norm == 0 or self.slots == 0:
            return np.zeros(self.slots, np.float32)
        starts, lengths = self.offsets[unique], self.offsets[unique + 1] - self.offsets[unique]
        postings = _ranges(starts, lengths)
        return np.bincount(
            self.image[postings],
            weights=self.weight[postings] * np.repeat(weight / norm, lengths),
            minlength=self.slots,
        )


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total) + shift


def _word_pairs(catalog_words, query_words, params) -> tuple[np.ndarray, np.ndarray]:
    """(catalog feature, query feature) index pairs of features sharing a word, at most
    ``max_pairs_per_word`` per query feature."""
    order = np.argsort(catalog_words, kind="stable")
    sorted_words = catalog_words[order]
    left = np.searchsorted(sorted_words, query_words, side="left")
    right = np.searchsorted(sorted_words, query_words, side="right")
    lengths = np.minimum(right - left, params.max_pairs_per_word)
    return order[_ranges(left, lengths)], np.repeat(np.arange(len(query_words)), lengths)


def _nearest_pairs(
    cv2, catalog: np.ndarray, query: np.ndarray, ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each query feature with its nearest catalog feature, where that one is clearly nearer than
    the second (Lowe's ratio test)."""
    if len(catalog) < 2 or len(query) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    matches = cv2.BFMatcher(cv2.NORM_L2).knnMatch(
        np.ascontiguousarray(query, np.float32), np.ascontiguousarray(catalog, np.float32), k=2
    )
    found = np.array(
        [
            (m[0].trainIdx, m[0].queryIdx)
            for m in matches
            if len(m) == 2 and m[0].distance < ratio * m[1].distance
        ],
        np.int64,
    ).reshape(-1, 2)
    return found[:, 0], found[:, 1]


def _verify(cv2, catalog_frames, query_frames, pairs, params) -> int:
    """Inliers of the homography that the paired features support; 0 if none holds.

    Pairs are first clustered by the similarity transform each one implies (Lowe's Hough voting):
    in a cluttered scene, or on a repeated texture, the right pairs are a few in hundreds, too few for
    RANSAC to find by sampling, but they agree on where, how big and how turned the product is.
    RANSAC then fits the homography to the largest cluster, and every pair it explains counts."""
    catalog_index, query_index = pairs
    if len(catalog_index) < max(params.min_inliers, 4):
        return 0  # fewer pairs than the inliers a match needs: RANSAC cannot change the answer
    source_all = catalog_frames[catalog_index, :2]
    target_all = query_frames[query_index, :2]
    cluster = _largest_cluster(catalog_frames, catalog_index, query_frames, query_index)
    if len(cluster) < max(params.min_inliers, 4):
        return 0
    homography, mask = cv2.findHomography(
        source_all[cluster].reshape(-1, 1, 2),
        target_all[cluster].reshape(-1, 1, 2),
        _METHODS[params.ransac],
        params.ransac_threshold,
        maxIters=params.ransac_iterations,
        confidence=0.995,
    )
    if homography is None or mask is None or not _plausible(homography):
        return 0
    projected = cv2.perspectiveTransform(source_all.reshape(-1, 1, 2), homography).reshape(-1, 2)
    kept = np.linalg.norm(projected - target_all, axis=1) <= params.ransac_threshold
    # An inlier counts once per spot of the product image and of the photo: features stacked at one
    # point (several scales, the blurred view) or one feature paired twice are one piece of evidence.
    cell = params.inlier_cell
    spots = [
        np.unique(np.floor(points[kept] / cell).astype(np.int64) @ np.array([1, 1 << 20]))
        for points in (source_all, target_all)
    ]
    return int(min(len(spots[0]), len(spots[1])))


def _largest_cluster(catalog_frames, catalog_index, query_frames, query_index) -> np.ndarray:
    """Indices of the pairs in the fullest bin of (log scale, angle, x, y of the product's centre)."""
    c, q = catalog_frames[catalog_index], query_frames[query_index]
    log_scale = q[:, 2] - c[:, 2]
    turn = np.radians(q[:, 3] - c[:, 3])
    # SIFT's angles turn with the picture as R(turn) does in image coordinates (y down).
    centre = (catalog_frames[:, :2].min(axis=0) + catalog_frames[:, :2].max(axis=0)) / 2
    extent = max(float(np.ptp(catalog_frames[:, :2], axis=0).max()), 1.0)
    offset = (centre - c[:, :2]) * np.exp2(log_scale)[:, None]
    cos, sin = np.cos(turn), np.sin(turn)
    predicted = q[:, :2] + np.column_stack(
        [cos * offset[:, 0] - sin * offset[:, 1], sin * offset[:, 0] + cos * offset[:, 1]]
    )
    # Lowe's bins: a factor of 2 in scale, 30 degrees, a quarter of the product's projected size.
    location_bin = 0.25 * extent * np.exp2(np.round(log_scale))
    coordinates = np.column_stack(
        [
            log_scale,
            np.degrees(turn) % 360 / 30,
            predicted[:, 0] / location_bin,
            predicted[:, 1] / location_bin,
        ]
    )
    # Each pair votes for the two nearest bins in every dimension, so a bin edge splits no cluster.
    low = np.floor(coordinates - 0.5).astype(np.int64)
    cell = low[None, :, :] + _CORNERS[:, None, :]  # (16 corners, pairs, 4)
    cell[:, :, 1] %= 12
    votes = (
        ((cell[:, :, 0] + 64) << 48)
        + (cell[:, :, 1] << 40)
        + ((cell[:, :, 2] + 2**19) << 20)
        + (cell[:, :, 3] + 2**19)
    ).reshape(-1)
    # Only the fullest bin is wanted: its members are found by comparing, not by an inverse index.
    bins, counts = np.unique(votes, return_counts=True)
    voters = np.tile(np.arange(len(c)), len(_CORNERS))
    return voters[votes == bins[int(np.argmax(counts))]]


_CORNERS = np.array([[(corner >> d) & 1 for d in range(4)] for corner in range(16)], np.int64)


_METHODS = {"ransac": 8, "usac_fast": 35, "usac_magsac": 38, "usac_default": 32, "usac_accurate": 36}


def _plausible(homography: np.ndarray) -> bool:
    """A photo of the product: not a mirror, not squashed to a line, not more than 8x in scale."""
    if abs(homography[2, 2]) < 1e-9:
        return False
    linear = homography[:2, :2] / homography[2, 2]
    determinant = float(np.linalg.det(linear))
    return 1 / 64 < determinant < 64 and abs(homography[2, 0]) + abs(homography[2, 1]) < 0.01 * abs(
        homography[2, 2]
    )
