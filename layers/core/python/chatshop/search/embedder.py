"""The Embedder the search and indexer functions use: sentence-transformers models on the CPU.

Models load on first use (see :mod:`chatshop.search.models`), so constructing an embedder costs
nothing and a function that never embeds an image never loads CLIP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from chatshop.platform.config import Settings
from chatshop.search import models
from chatshop.search.embedding import Matrix
from chatshop.search.models import ModelInfo, ModelKind

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["DEFAULT_BATCH_SIZE", "SentenceTransformersEmbedder", "normalise_rows"]

DEFAULT_BATCH_SIZE = 32


class SentenceTransformersEmbedder:
    """Implements :class:`chatshop.search.embedding.Embedder`."""

    def __init__(self, settings: Settings, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._settings = settings
        self._batch_size = batch_size

    @property
    def image_dimensions(self) -> int:
        return self.model_info("image").dimensions

    @property
    def text_dimensions(self) -> int:
        return self.model_info("text").dimensions

    @property
    def image_model_trained(self) -> bool:
        # Answered without loading CLIP when it is not loaded yet, so /health stays cheap.
        return bool(models.models_health(self._settings)["image"]["trained"])

    def model_info(self, kind: ModelKind) -> ModelInfo:
        return models.load_model(kind, self._settings).info

    def embed_images(self, images: Sequence[Image]) -> Matrix:
        return self._encode("image", list(images))

    def embed_texts_for_images(self, texts: Sequence[str]) -> Matrix:
        return self._encode("image", list(texts))

    def embed_texts(self, texts: Sequence[str]) -> Matrix:
        return self._encode("text", list(texts))

    def _encode(self, kind: ModelKind, inputs: list[Any]) -> Matrix:
        loaded = models.load_model(kind, self._settings)
        if not inputs:
            return np.zeros((0, loaded.info.dimensions), dtype=np.float32)
        vectors = loaded.model.encode(
            inputs,
            batch_size=self._batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise_rows(np.asarray(vectors, dtype=np.float32).reshape(len(inputs), -1))


def normalise_rows(vectors: Matrix) -> Matrix:
    """Each row scaled to unit length; an all-zero row stays zero rather than turning into NaNs."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)
