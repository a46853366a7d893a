"""A batch's texts embedded in one call, then served one at a time as the indexer asks."""

from __future__ import annotations

import numpy as np

from chatshop.search.documents import embedded_text
from chatshop.search.text_prefetch import PrefetchingEmbedder, texts_of
from chatshop.shops.product_store import StoredVersion

from .test_service import FakeEmbedder, make_product

SHOP_A, SHOP_B = "a" * 32, "b" * 32


def test_prefetched_texts_are_embedded_in_one_call_and_served_without_another():
    # Given a batch's three texts prefetched
    inner = FakeEmbedder()
    embedder = PrefetchingEmbedder(inner)
    texts = ["red mug", "blue bowl", "green vase"]
    embedder.prefetch_texts([*texts, "red mug"])
    assert inner.calls["texts"] == 1

    # When the indexer asks for them one at a time
    served = [embedder.embed_texts([text])[0] for text in texts]

    # Then they are the embedder's own vectors, and no further call was made
    assert inner.calls["texts"] == 1
    np.testing.assert_array_equal(np.stack(served), FakeEmbedder().embed_texts(texts))


def test_a_text_not_prefetched_is_embedded_as_usual():
    inner = FakeEmbedder()
    embedder = PrefetchingEmbedder(inner)
    embedder.prefetch_texts(["red mug"])

    vector = embedder.embed_texts(["red mug", "yellow lamp"])

    assert inner.calls["texts"] == 2
    np.testing.assert_array_equal(vector, FakeEmbedder().embed_texts(["red mug", "yellow lamp"]))
    assert embedder.text_dimensions == inner.text_dimensions


class FakeProducts:
    def __init__(self, *products) -> None:
        self.products = {(p.shop_id, p.id): p for p in products}
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def get_many(self, shop_id, product_ids):
        self.calls.append((shop_id, tuple(product_ids)))
        found = (self.products.get((shop_id, pid)) for pid in product_ids)
        return {p.id: StoredVersion(p.version, "hash", p) for p in found if p is not None}


def test_the_texts_of_a_batch_are_read_one_shop_at_a_time_and_missing_products_skipped():
    mug = make_product("p" + "1" * 31, SHOP_A, "Red mug", "MUG-1")
    bowl = make_product("p" + "2" * 31, SHOP_B, "Blue bowl", "BOWL-1")
    products = FakeProducts(mug, bowl)
    keys = [(SHOP_A, mug.id), (SHOP_B, bowl.id), (SHOP_A, "p" + "9" * 31), (SHOP_A, mug.id)]

    texts = texts_of(products, keys)

    assert sorted(texts) == sorted([embedded_text(mug), embedded_text(bowl)])
    assert products.calls == [(SHOP_A, (mug.id, "p" + "9" * 31)), (SHOP_B, (bowl.id,))]
