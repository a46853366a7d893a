"""The embedding contract: what the indexer and the search logic ask of the models.

Two spaces: ``image`` (CLIP; images and texts embed into one space, so words can find pictures)
and ``text`` (MiniLM; product titles and customers' words). Every vector is float32 and
L2-normalised, one row per input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL.Image import Image

Matrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    @property
    def image_dimensions(self) -> int: ...

    @property
    def text_dimensions(self) -> int: ...

    @property
    def image_model_trained(self) -> bool:
        """False while visual search runs on the tiny untrained CLIP (local default, tests)."""

    def embed_images(self, images: Sequence[Image]) -> Matrix:
        """CLIP image vectors (image space)."""

    def embed_texts_for_images(self, texts: Sequence[str]) -> Matrix:
        """CLIP text vectors (image space): words that find pictures."""

    def embed_texts(self, texts: Sequence[str]) -> Matrix:
        """MiniLM vectors (text space)."""
