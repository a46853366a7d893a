"""A visual vocabulary learned from the catalog's own descriptors: a vocabulary tree (Nistér and
Stewénius, 2006), hierarchical k-means with ``branching`` children per node and ``depth`` levels.

Why a tree and not a flat k-means: learning ``branching ** depth`` words flat costs a k-means with
that many centres over every descriptor, minutes on two cores; the tree learns them as many small
k-means, and assigns a descriptor with ``branching * depth`` distances instead of one per word.

Snapshot format (``to_bytes``/``from_bytes``), never pickle: ``MAGIC | u8 branching | u8 depth |
u16 dimensions | float16 centres`` of each level in turn, level ``l`` holding ``branching ** (l + 1)``
centres (the children of node ``n`` are ``n * branching ... n * branching + branching - 1``).
"""

from __future__ import annotations

import hashlib
import struct
from functools import cached_property

import numpy as np

__all__ = ["Vocabulary", "VocabularyFormatError"]

MAGIC = b"CSVOC\x01"
_HEAD = struct.Struct("<BBH")
_CHUNK = 2048


class VocabularyFormatError(ValueError):
    """Bytes that are not a vocabulary this code can read."""


class Vocabulary:
    """Descriptors in, word ids (``0 .. size - 1``) out."""

    def __init__(self, levels: list[np.ndarray], branching: int) -> None:
        self.branching = branching
        self.depth = len(levels)
        # float32 for arithmetic, rounded to the float16 a snapshot stores (which SIFT's unit-length
        # descriptors survive), so words assigned before and after a save are the same words.
        self._levels = [np.asarray(level, dtype=np.float16).astype(np.float32) for level in levels]
        self._norms = [np.einsum("ij,ij->i", level, level) for level in self._levels]

    @property
    def size(self) -> int:
        return self.branching**self.depth

    @cached_property
    def digest(self) -> str:
        """Names these words: indexes whose words another vocabulary assigned are not comparable."""
        return hashlib.sha256(self.to_bytes()).hexdigest()[:32]

    @property
    def dimensions(self) -> int:
        return int(self._levels[0].shape[1])

    @classmethod
    def learn(
        cls,
        descriptors: np.ndarray,
        *,
        branching: int = 64,
        depth: int = 2,
        seed: int = 0,
        sample: int = 200_000,
    ) -> Vocabulary:
        """Hierarchical k-means over (a seeded sample of) ``descriptors``."""
        import cv2

        if not 2 <= branching <= 255 or not 1 <= depth <= 4:
            raise ValueError("branching must be 2..255 and depth 1..4")
        data = np.ascontiguousarray(descriptors, dtype=np.float32)
        if len(data) == 0:
            raise ValueError("a vocabulary is learned from at least one descriptor")
        rng = np.random.default_rng(seed)
        if len(data) > sample:
            data = data[rng.choice(len(data), sample, replace=False)]
        cv2.setRNGSeed(seed)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1e-4)
        levels: list[np.ndarray] = []
        owner = np.zeros(len(data), dtype=np.int64)  # the node each descriptor sits under
        parents = data.mean(axis=0, keepdims=True)
        for _ in range(depth):
            centres = np.repeat(parents, branching, axis=0)  # a node too small to split keeps its parent
            order = np.argsort(owner, kind="stable")
            bounds = np.searchsorted(owner[order], np.arange(len(parents) + 1))
            for node in range(len(parents)):
                members = data[order[bounds[node] : bounds[node + 1]]]
                if len(members) >= branching:
                    _, _, found = cv2.kmeans(members, branching, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
                    centres[node * branching : (node + 1) * branching] = found
                elif len(members):
                    centres[node * branching : node * branching + len(members)] = members
            levels.append(centres)
            vocabulary = cls(levels, branching)
            owner = vocabulary._descend(data, len(levels))
            parents = centres
        return cls(levels, branching)

    def assign(self, descriptors: np.ndarray) -> np.ndarray:
        """The word of each descriptor, as uint32."""
        data = np.ascontiguousarray(descriptors, dtype=np.float32)
        if len(data) == 0:
            return np.zeros(0, dtype=np.uint32)
        return self._descend(data, self.depth).astype(np.uint32)

    def assign_nearest(self, descriptors: np.ndarray, count: int, *, branches: int = 2) -> np.ndarray:
        """The ``count`` nearest words of each descriptor, nearest first, as uint32 (n, count).

        Multiple assignment (Jégou et al., 2010, for a query's features): a descriptor near the
        border of its cell, as a blurred or recompressed photo's often is, finds its product's word
        among the next ones. The tree is searched down the ``branches`` nearest nodes of each level
        but the last, so the words found are those of the nearest cells, not only of one parent."""
        data = np.ascontiguousarray(descriptors, dtype=np.float32)
        if len(data) == 0:
            return np.zeros((0, count), dtype=np.uint32)
        if len(data) > _CHUNK:
            return np.concatenate(
                [
                    self.assign_nearest(data[i : i + _CHUNK], count, branches=branches)
                    for i in range(0, len(data), _CHUNK)
                ]
            )
        nodes = np.zeros((len(data), 1), dtype=np.int64)
        children = np.arange(self.branching)
        rows = np.arange(len(data))[:, None]
        for level, (centres, norms) in enumerate(zip(self._levels, self._norms, strict=True)):
            candidates = (nodes[:, :, None] * self.branching + children).reshape(len(data), -1)
            dots = np.einsum("nbd,nd->nb", centres[candidates], data)
            distances = norms[candidates] - 2 * dots
            keep = count if level == self.depth - 1 else branches
            keep = min(keep, candidates.shape[1])
            best = np.argpartition(distances, keep - 1, axis=1)[:, :keep]
            order = np.argsort(distances[rows, best], axis=1)
            nodes = candidates[rows, best[rows, order]]
        return nodes.astype(np.uint32)

    def _descend(self, data: np.ndarray, depth: int) -> np.ndarray:
        # In chunks: the children gathered per descriptor are branching x dimensions floats each.
        if len(data) > _CHUNK:
            return np.concatenate(
                [self._descend(data[i : i + _CHUNK], depth) for i in range(0, len(data), _CHUNK)]
            )
        node = np.zeros(len(data), dtype=np.int64)
        children = np.arange(self.branching)
        for level, norms in zip(self._levels[:depth], self._norms[:depth], strict=True):
            candidates = node[:, None] * self.branching + children  # (n, branching)
            # |c|^2 - 2 c.x ranks the children by distance without forming the differences.
            dots = np.einsum("nbd,nd->nb", level[candidates], data)
            node = candidates[np.arange(len(data)), np.argmin(norms[candidates] - 2 * dots, axis=1)]
        return node

    def to_bytes(self) -> bytes:
        parts = [MAGIC, _HEAD.pack(self.branching, self.depth, self.dimensions)]
        parts += [level.astype("<f2").tobytes() for level in self._levels]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> Vocabulary:
        view = memoryview(data)
        if bytes(view[: len(MAGIC)]) != MAGIC or len(view) < len(MAGIC) + _HEAD.size:
            raise VocabularyFormatError("not a vocabulary snapshot")
        branching, depth, dimensions = _HEAD.unpack_from(view, len(MAGIC))
        if branching < 2 or depth < 1 or dimensions < 1:
            raise VocabularyFormatError("the vocabulary's header is invalid")
        offset, levels = len(MAGIC) + _HEAD.size, []
        for level in range(depth):
            count = branching ** (level + 1) * dimensions
            end = offset + 2 * count
            if end > len(view):
                raise VocabularyFormatError("the vocabulary snapshot is truncated")
            centres = np.frombuffer(view[offset:end], dtype="<f2").reshape(-1, dimensions)
            levels.append(centres.astype(np.float32))
            offset = end
        if offset != len(view):
            raise VocabularyFormatError("the vocabulary snapshot has trailing bytes")
        return cls(levels, branching)
