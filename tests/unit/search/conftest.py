"""Fixtures shared by the search unit tests: one model cache per test run.

The tiny untrained CLIP is built into it on first use (a few seconds), then every test of the
run loads it from there, as a function's container would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatshop.platform.config import Settings
from chatshop.search.embedder import SentenceTransformersEmbedder


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def model_settings(model_cache: Path) -> Settings:
    """Settings with the default models (bundled MiniLM, tiny CLIP) and the test run's model cache."""
    return Settings(model_cache_dir=model_cache)


@pytest.fixture(scope="session")
def embedder(model_settings: Settings) -> SentenceTransformersEmbedder:
    return SentenceTransformersEmbedder(model_settings)
