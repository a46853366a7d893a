"""The one vector index contract every backend (in-function ANN, S3 Vectors) implements.

Vectors are float32, L2-normalised; scores are cosine similarities (higher is better). Keys are
product ids, unique within one index. Metadata carries what queries filter on: the shop, the
country and whether the product can be bought now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class VectorMetadata:
    shop_id: str
    country: str
    in_stock: bool


@dataclass(frozen=True)
class VectorRecord:
    key: str
    vector: Vector
    metadata: VectorMetadata


@dataclass(frozen=True)
class VectorFilter:
    """Which records a query may return; None means any."""

    shop_id: str | None = None
    country: str | None = None
    in_stock_only: bool = False

    def accepts(self, metadata: VectorMetadata) -> bool:
        return (
            (self.shop_id is None or metadata.shop_id == self.shop_id)
            and (self.country is None or metadata.country == self.country)
            and (not self.in_stock_only or metadata.in_stock)
        )


@dataclass(frozen=True)
class VectorHit:
    key: str
    score: float
    metadata: VectorMetadata


class VectorIndex(Protocol):
    """A named set of vectors of one dimension (one per model space: image, text)."""

    @property
    def dimensions(self) -> int: ...

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Add or replace records by key."""

    def delete(self, keys: Sequence[str]) -> None:
        """Remove records by key; unknown keys are ignored."""

    def query(self, vector: Vector, limit: int, where: VectorFilter | None = None) -> list[VectorHit]:
        """At most ``limit`` hits accepted by ``where``, best first; an empty index gives []."""

    def __len__(self) -> int: ...


def unit_vector(vector: Vector, dimensions: int) -> Vector:
    """``vector`` as a flat float32 array of length 1 (unit length), checked to have ``dimensions`` values."""
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if array.shape[0] != dimensions:
        raise ValueError(f"expected a vector of {dimensions} dimensions, got {array.shape[0]}")
    norm = float(np.linalg.norm(array))
    if not math.isfinite(norm) or norm == 0.0:
        raise ValueError("a vector must be finite and non-zero")
    return array / norm
