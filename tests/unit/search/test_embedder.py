"""The sentence-transformers embedder: shapes, unit length, one space per model, odd inputs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from chatshop.platform.config import Settings
from chatshop.search.embedder import SentenceTransformersEmbedder, normalise_rows
from chatshop.search.embedding import Embedder


def product_photo(colour: tuple[int, int, int], shape: str) -> Image.Image:
    image = Image.new("RGB", (320, 240), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse((80, 40, 240, 200), fill=colour)
    else:
        draw.rectangle((60, 60, 260, 180), fill=colour)
    return image


def assert_unit_rows(vectors: np.ndarray, rows: int, dimensions: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (rows, dimensions)
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_it_satisfies_the_embedder_contract(embedder: SentenceTransformersEmbedder) -> None:
    contract: Embedder = embedder
    assert (contract.image_dimensions, contract.text_dimensions) == (512, 384)
    assert contract.image_model_trained is False


def test_images_embed_to_unit_vectors_in_the_clip_space(embedder: SentenceTransformersEmbedder) -> None:
    photos = [product_photo((200, 0, 0), "circle"), product_photo((0, 0, 200), "square")]

    vectors = embedder.embed_images(photos)

    assert_unit_rows(vectors, 2, 512)
    assert not np.allclose(vectors[0], vectors[1])
    # the same picture gives the same vector, whatever else is in the batch
    np.testing.assert_allclose(embedder.embed_images(photos[:1])[0], vectors[0], atol=1e-5)


def test_words_for_pictures_land_in_the_image_space(embedder: SentenceTransformersEmbedder) -> None:
    words = embedder.embed_texts_for_images(["red round bowl", "blue square box"])
    pictures = embedder.embed_images([product_photo((200, 0, 0), "circle")])

    assert_unit_rows(words, 2, 512)
    scores = words @ pictures[0]
    assert np.all(np.abs(scores) <= 1.0 + 1e-5)


def test_text_embeds_with_minilm_and_means_something(embedder: SentenceTransformersEmbedder) -> None:
    texts = ["red running shoes", "crimson sneakers for jogging", "cast iron frying pan"]
    vectors = embedder.embed_texts(texts)

    assert_unit_rows(vectors, 3, 384)
    shoes, sneakers, pan = vectors
    assert shoes @ sneakers > shoes @ pan + 0.2


def test_batches_larger_than_the_batch_size_keep_their_order(
    embedder: SentenceTransformersEmbedder, model_settings: Settings
) -> None:
    small_batches = SentenceTransformersEmbedder(model_settings, batch_size=2)
    texts = [f"product number {i}" for i in range(5)]

    np.testing.assert_allclose(small_batches.embed_texts(texts), embedder.embed_texts(texts), atol=1e-5)


@pytest.mark.parametrize("method", ["embed_images", "embed_texts_for_images", "embed_texts"])
def test_no_inputs_give_an_empty_matrix_of_the_right_width(
    embedder: SentenceTransformersEmbedder, method: str
) -> None:
    vectors = getattr(embedder, method)([])
    width = embedder.text_dimensions if method == "embed_texts" else embedder.image_dimensions
    assert vectors.shape == (0, width)
    assert vectors.dtype == np.float32


@pytest.mark.parametrize(
    "text",
    ["x" * 5000, "buy " * 1500, "\x00\x01\x1b[31m\u202e\ufeff", "", "🙂🛍️ 鞋子 حذاء"],
    ids=["5000-chars", "long-words", "control-chars", "empty", "non-latin"],
)
def test_awkward_text_still_embeds_in_both_spaces(embedder: SentenceTransformersEmbedder, text: str) -> None:
    assert_unit_rows(embedder.embed_texts([text]), 1, 384)
    assert_unit_rows(embedder.embed_texts_for_images([text]), 1, 512)


def test_tiny_and_extreme_aspect_images_embed(embedder: SentenceTransformersEmbedder) -> None:
    images = [Image.new("RGB", (1, 1), (9, 9, 9)), Image.new("RGB", (2000, 3), (200, 100, 0))]
    assert_unit_rows(embedder.embed_images(images), 2, 512)


def test_a_zero_row_stays_zero_when_normalised() -> None:
    rows = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(normalise_rows(rows), [[0.6, 0.8], [0.0, 0.0]])
    assert normalise_rows(rows).dtype == np.float32


def test_a_batch_size_below_one_is_refused(model_settings: Settings) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        SentenceTransformersEmbedder(model_settings, batch_size=0)
