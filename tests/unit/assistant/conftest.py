"""Fixtures shared by the assistant unit tests: the real text model, loaded once per test run."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatshop.platform.config import Settings
from chatshop.search.embedder import SentenceTransformersEmbedder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> SentenceTransformersEmbedder:
    """The packaged all-MiniLM-L6-v2 (the text model every function uses by default)."""
    return SentenceTransformersEmbedder(Settings(model_cache_dir=model_cache))
