"""RootSIFT descriptors kept small: projected onto a fixed PCA basis and quantised to uint8.

Why keep descriptors at all: a vocabulary learned from a region's first images (a few flat test
pictures) assigns poor words forever unless it can be learned again, and learning again needs the
descriptors of every indexed image; keeping the full 128 floats (512 B a feature) would not fit
10,000 images in a function. Why a *fixed* basis: it is shared by every region and never changes,
so what a snapshot stores stays valid however often its vocabulary is relearned; words and
nearest-neighbour matches are computed in the projected space, for indexed images and photos
alike.

The basis (``rootsift_pca.bin``) is the principal axes of RootSIFT descriptors of photographed
and drawn products, made by ``bench/rootsift_projection.py`` from a seed the quality benchmark does
not use. Format: ``MAGIC | u16 input dimensions | u16 components | f32 mean[input] |
f32 axes[components, input] | f32 step[components]``; ``step`` is the quantisation step of each
component (a fixed fraction of its spread), so a code is ``round(coefficient / step) + 128``.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["Projection", "projection"]

MAGIC = b"CSPCA\x01"
_HEAD = struct.Struct("<HH")
DATA = Path(__file__).with_name("rootsift_pca.bin")


class Projection:
    """RootSIFT (n, 128) in, uint8 codes (n, dimensions) out, and back to float coefficients."""

    def __init__(self, mean: np.ndarray, axes: np.ndarray, step: np.ndarray, dimensions: int) -> None:
        if not 1 <= dimensions <= len(axes):
            raise ValueError(f"the basis has {len(axes)} components, not {dimensions}")
        self.dimensions = dimensions
        self._mean = mean.astype(np.float32)
        self._axes = np.ascontiguousarray(axes[:dimensions].T, dtype=np.float32)  # (input, dimensions)
        self._step = step[:dimensions].astype(np.float32)

    def codes(self, descriptors: np.ndarray) -> np.ndarray:
        if len(descriptors) == 0:
            return np.zeros((0, self.dimensions), np.uint8)
        coefficients = (np.asarray(descriptors, np.float32) - self._mean) @ self._axes
        return np.clip(np.round(coefficients / self._step) + 128, 0, 255).astype(np.uint8)

    def coefficients(self, codes: np.ndarray) -> np.ndarray:
        """What the codes stand for, as float32: the space words and nearest neighbours live in."""
        return (np.asarray(codes, np.float32) - 128) * self._step

    @staticmethod
    def to_bytes(mean: np.ndarray, axes: np.ndarray, step: np.ndarray) -> bytes:
        return b"".join(
            [
                MAGIC,
                _HEAD.pack(len(mean), len(axes)),
                mean.astype("<f4").tobytes(),
                axes.astype("<f4").tobytes(),
                step.astype("<f4").tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes, dimensions: int) -> Projection:
        if data[: len(MAGIC)] != MAGIC:
            raise ValueError("not a projection")
        inputs, components = _HEAD.unpack_from(data, len(MAGIC))
        values = np.frombuffer(data, "<f4", offset=len(MAGIC) + _HEAD.size)
        if len(values) != inputs + components * inputs + components:
            raise ValueError("the projection is truncated")
        mean = values[:inputs]
        axes = values[inputs : inputs + components * inputs].reshape(components, inputs)
        return cls(mean, axes, values[inputs + components * inputs :], dimensions)


@lru_cache(maxsize=4)
def projection(dimensions: int) -> Projection:
    return Projection.from_bytes(DATA.read_bytes(), dimensions)
