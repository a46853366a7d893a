"""Exact cosine search in memory: the reference every ANN backend is measured against, and the
index unit tests use. A brute-force matrix product, so it is exact by construction."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from .vectors import Vector, VectorFilter, VectorHit, VectorMetadata, VectorRecord


class ExactIndex:
    def __init__(self, dimensions: int) -> None:
        self._dimensions = dimensions
        self._keys: list[str] = []
        self._slots: dict[str, int] = {}
        self._metadata: list[VectorMetadata] = []
        self._matrix = np.zeros((0, dimensions), dtype=np.float32)
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def __len__(self) -> int:
        return len(self._keys)

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        with self._lock:
            for record in records:
                vector = self._checked(record.vector)
                slot = self._slots.get(record.key)
                if slot is None:
                    self._slots[record.key] = len(self._keys)
                    self._keys.append(record.key)
                    self._metadata.append(record.metadata)
                    self._matrix = np.vstack([self._matrix, vector[None, :]])
                else:
                    self._matrix[slot] = vector
                    self._metadata[slot] = record.metadata

    def delete(self, keys: Sequence[str]) -> None:
        with self._lock:
            gone = {self._slots[key] for key in keys if key in self._slots}
            if not gone:
                return
            kept = [slot for slot in range(len(self._keys)) if slot not in gone]
            self._keys = [self._keys[slot] for slot in kept]
            self._metadata = [self._metadata[slot] for slot in kept]
            self._matrix = self._matrix[kept]
            self._slots = {key: slot for slot, key in enumerate(self._keys)}

    def query(self, vector: Vector, limit: int, where: VectorFilter | None = None) -> list[VectorHit]:
        query = self._checked(vector)
        with self._lock:
            if not self._keys or limit <= 0:
                return []
            scores = self._matrix @ query
            order = np.argsort(-scores, kind="stable")
            hits: list[VectorHit] = []
            for slot in order:
                metadata = self._metadata[slot]
                if where is None or where.accepts(metadata):
                    hits.append(VectorHit(self._keys[slot], float(scores[slot]), metadata))
                    if len(hits) == limit:
                        break
            return hits

    def _checked(self, vector: Vector) -> Vector:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != self._dimensions:
            raise ValueError(f"expected a vector of {self._dimensions} dimensions, got {array.shape[0]}")
        return array
