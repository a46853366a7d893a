"""Applying index events: embed what changed once, remove what is gone, reject bad images for good."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from PIL import Image

from chatshop.search.documents import image_object_key, image_vector_key, local_image_key
from chatshop.search.exact import ExactIndex
from chatshop.search.images import validate_image
from chatshop.search.indexer import CLIP_ONLY, INDEXED, Indexer, IndexEvent, ProductsOfBatch, ShopsOfBatch
from chatshop.search.lexical import LexicalEntry, LexicalIndex
from chatshop.search.local_features import LocalFeatureParams, catalog_features
from chatshop.search.local_store import LocalImage
from chatshop.search.vectors import VectorRecord
from chatshop.shops.domain import Product, ProductImage, Shop
from chatshop.shops.product_store import IndexState, StoredVersion

from .test_service import FakeEmbedder, make_product, make_shop

SHOP = "a" * 32
PID = "p" + "1" * 31
IMG_A, IMG_B = "a" * 32, "b" * 32


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, format="PNG")
    return out.getvalue()


class FakeProducts:
    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.states: dict[str, IndexState] = {}
        self.state_writes: list[tuple[int, int]] = []  # (puts, deletes) of each write_index_states

    def get(self, shop_id: str, product_id: str) -> StoredVersion | None:
        product = self.products.get(product_id)
        return StoredVersion(product.version, "hash", product) if product else None

    def get_index_state(self, shop_id: str, product_id: str) -> IndexState | None:
        return self.states.get(product_id)

    def put_index_state(self, state: IndexState) -> None:
        self.states[state.product_id] = state

    def delete_index_state(self, shop_id: str, product_id: str) -> None:
        self.states.pop(product_id, None)

    def write_index_states(self, puts: Sequence[IndexState], deletes: Sequence[tuple[str, str]]) -> None:
        self.state_writes.append((len(puts), len(deletes)))
        for state in puts:
            self.put_index_state(state)
        for shop_id, product_id in deletes:
            self.delete_index_state(shop_id, product_id)

    def record_image_index(self, shop_id: str, product_id: str, image: ProductImage) -> bool:
        product = self.products.get(product_id)
        if product is None or image.id not in {i.id for i in product.images}:
            return False
        images = [image if i.id == image.id else i for i in product.images]
        self.products[product_id] = product.model_copy(update={"images": images})
        return True


class FakeShops:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {SHOP: make_shop(SHOP)}

    def get(self, shop_id: str) -> Shop | None:
        return self.shops.get(shop_id)


class FakeVectors:
    def __init__(self, embedder: FakeEmbedder) -> None:
        self.spaces = {
            "image": ExactIndex(embedder.image_dimensions),
            "text": ExactIndex(embedder.text_dimensions),
        }

    def apply(
        self, space: str, shop_id: str, upserts: Sequence[VectorRecord], deletes: Sequence[str]
    ) -> None:
        self.spaces[space].delete(deletes)
        self.spaces[space].upsert(upserts)

    def keys(self, space: str) -> set[str]:
        index = self.spaces[space]
        return {hit.key for hit in index.query(index_probe(index.dimensions), len(index) or 1)}


def index_probe(dimensions: int):
    import numpy as np

    return np.ones(dimensions, dtype=np.float32) / dimensions**0.5


class FakeLexicon:
    def __init__(self) -> None:
        self.index = LexicalIndex()

    def apply(self, shop_id: str, upserts: Sequence[LexicalEntry], deletes: Sequence[str]) -> None:
        for product_id in deletes:
            self.index.delete(product_id)
        for entry in upserts:
            self.index.upsert(entry)


class FakeLocal:
    """The local-feature indexes, as the images they hold by key, with each shop's writes counted."""

    def __init__(self) -> None:
        self.images: dict[str, LocalImage] = {}
        self.calls: list[tuple[str, int, int]] = []

    def apply(self, shop_id: str, upserts: Sequence[LocalImage], deletes: Sequence[str]) -> None:
        self.calls.append((shop_id, len(upserts), len(deletes)))
        for key in deletes:
            self.images.pop(key, None)
        for image in upserts:
            self.images[image.key] = image


class FakeMedia:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.failing = False

    def read(self, key: str, max_bytes: int) -> bytes | None:
        if self.failing:
            raise OSError("connection reset")
        return self.objects.get(key)


class Rig:
    def __init__(self) -> None:
        self.embedder = FakeEmbedder()
        self.products = FakeProducts()
        self.shops = FakeShops()
        self.vectors = FakeVectors(self.embedder)
        self.lexicon = FakeLexicon()
        self.media = FakeMedia()
        self.local = FakeLocal()
        self.indexer = Indexer(
            products=self.products,
            shops=self.shops,
            embedder=self.embedder,
            vectors=self.vectors,
            lexicon=self.lexicon,
            media=self.media,
            validate_image=lambda data, declared: validate_image(data, declared).image,
            local=self.local,
            local_features=lambda image: catalog_features(image, LocalFeatureParams()),
        )

    def put(self, images: dict[str, bytes] | None = None, **fields) -> Product:
        current = self.products.products.get(PID)
        values = {"title": "Red mug", "sku": "MUG-1", **fields}
        recorded = [ProductImage(id=i, content_type="image/png") for i in (images or {})]
        if current is not None:
            kept = {i.id: i for i in current.images}
            recorded = [kept.get(i.id, i) for i in recorded]
        product = make_product(PID, SHOP, values.pop("title"), values.pop("sku"), images=recorded, **values)
        self.products.products[PID] = product
        for image_id, data in (images or {}).items():
            self.media.objects[image_object_key(product, image_id)] = data
        return product

    def handle(self):
        return self.indexer.handle(SHOP, PID)

    def image_status(self) -> dict[str, tuple[str, str | None]]:
        return {i.id: (i.index_status, i.index_error) for i in self.products.products[PID].images}


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_a_new_product_is_embedded_with_its_images_and_its_words(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    outcome = rig.handle()
    assert (outcome.action, outcome.text_embedded, outcome.images_embedded) == ("indexed", True, 1)
    assert rig.vectors.keys("text") == {PID}
    assert rig.vectors.keys("image") == {image_vector_key(PID, IMG_A)}
    assert [hit.product_id for hit in rig.lexicon.index.search("mug-1", 5)] == [PID]
    assert rig.image_status() == {IMG_A: ("indexed", None)}


def test_a_repeated_event_embeds_nothing(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    rig.handle()
    calls = dict(rig.embedder.calls)
    assert rig.handle().action == "unchanged"
    assert rig.embedder.calls == calls


def test_an_availability_change_embeds_nothing(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    rig.handle()
    calls = dict(rig.embedder.calls)
    rig.put({IMG_A: png((255, 0, 0))}, availability="out of stock")
    assert rig.handle().action == "unchanged"
    assert rig.embedder.calls == calls


def test_a_new_title_re_embeds_the_text_once_and_not_the_images(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    rig.handle()
    rig.put({IMG_A: png((255, 0, 0))}, title="Blue bowl")
    outcome = rig.handle()
    assert (outcome.text_embedded, outcome.images_embedded) == (True, 0)
    assert [hit.product_id for hit in rig.lexicon.index.search("bowl", 5)] == [PID]
    assert rig.lexicon.index.search("red", 5) == []
    assert rig.handle().action == "unchanged"


def test_only_a_new_image_is_embedded_and_a_removed_one_leaves_the_index(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    rig.handle()
    rig.put({IMG_B: png((0, 0, 255))})
    outcome = rig.handle()
    assert (outcome.text_embedded, outcome.images_embedded, outcome.images_removed) == (False, 1, 1)
    assert rig.vectors.keys("image") == {image_vector_key(PID, IMG_B)}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<html>not an image</html>", "image_type_unsupported"),
        (b"", "image_empty"),
        (png((1, 2, 3))[:-40], "image_truncated"),
    ],
)
def test_a_bad_image_is_recorded_as_rejected_and_never_retried(rig, data, code):
    rig.put({IMG_A: data, IMG_B: png((0, 255, 0))})
    outcome = rig.handle()
    assert outcome.images_rejected == {IMG_A: code}
    assert rig.image_status() == {IMG_A: ("rejected", code), IMG_B: ("indexed", None)}
    assert rig.vectors.keys("image") == {image_vector_key(PID, IMG_B)}
    calls = dict(rig.embedder.calls)
    assert rig.handle().action == "unchanged"
    assert rig.embedder.calls == calls


def test_an_image_whose_object_is_gone_is_rejected_as_missing(rig):
    rig.put({IMG_A: png((1, 2, 3))})
    rig.media.objects.clear()
    assert rig.handle().images_rejected == {IMG_A: "image_missing"}


def test_a_transient_failure_propagates_so_the_queue_retries(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    rig.media.failing = True
    with pytest.raises(OSError):
        rig.handle()
    assert rig.products.states == {}
    rig.media.failing = False
    assert rig.handle().images_embedded == 1


def test_a_deleted_product_leaves_every_index(rig):
    rig.put({IMG_A: png((255, 0, 0)), IMG_B: png((0, 0, 255))})
    rig.handle()
    del rig.products.products[PID]
    outcome = rig.handle()
    assert (outcome.action, outcome.images_removed) == ("removed", 2)
    assert len(rig.vectors.spaces["text"]) == len(rig.vectors.spaces["image"]) == 0
    assert len(rig.lexicon.index) == 0
    assert rig.products.states == {}
    assert rig.handle().action == "removed"  # again: harmless


def test_a_closed_shops_products_leave_the_index(rig):
    rig.put({IMG_A: png((255, 0, 0))})
    rig.handle()
    del rig.shops.shops[SHOP]
    assert rig.handle().action == "removed"
    assert len(rig.vectors.spaces["image"]) == 0


def test_an_index_event_is_parsed_from_its_message():
    event = IndexEvent.model_validate_json(
        '{"event": "ProductModified", "shop_id": "s", "product_id": "p", "event_id": "e1", "sequence": "42"}'
    )
    assert (event.event, event.shop_id, event.product_id) == ("ProductModified", "s", "p")


def test_a_batch_reads_each_shop_once():
    # Given a shop reader that counts its reads
    reads: list[str] = []

    class CountingShops:
        def get(self, shop_id: str):
            reads.append(shop_id)
            return None if shop_id == "closed" else shop_id

    shops = ShopsOfBatch(CountingShops())

    # When a batch asks for two shops, again and again
    seen = [shops.get(shop_id) for shop_id in ["s1", "closed", "s1", "closed", "s1"]]

    # Then each was read once, a missing one included
    assert seen == ["s1", None, "s1", None, "s1"]
    assert reads == ["s1", "closed"]


class BatchReadableProducts(FakeProducts):
    def __init__(self) -> None:
        super().__init__()
        self.batch_reads: list[list[tuple[str, str]]] = []
        self.single_reads = 0

    def get_with_index_states(self, keys):
        self.batch_reads.append(list(keys))
        products = {key: found for key in keys if (found := FakeProducts.get(self, *key)) is not None}
        states = {key: self.states[key[1]] for key in keys if key[1] in self.states}
        return products, states

    def get(self, shop_id: str, product_id: str) -> StoredVersion | None:
        self.single_reads += 1
        return super().get(shop_id, product_id)


def test_a_batch_reads_its_products_and_index_states_once_and_writes_through():
    store = BatchReadableProducts()
    store.products[PID] = make_product(PID, SHOP, "Woven basket", "SKU-1")
    store.states[PID] = IndexState(SHOP, PID, "US", "old")
    other = "p" + "2" * 31
    batch = ProductsOfBatch(store, [(SHOP, PID), (SHOP, other), (SHOP, PID)])
    assert store.batch_reads == [[(SHOP, PID), (SHOP, other)]]
    assert batch.get(SHOP, PID).product.id == PID
    assert batch.get(SHOP, other) is None
    assert batch.get_many(SHOP, [PID, other]).keys() == {PID}
    assert batch.get_index_state(SHOP, PID) == IndexState(SHOP, PID, "US", "old")
    assert batch.get_index_state(SHOP, other) is None
    assert store.single_reads == 0
    batch.put_index_state(IndexState(SHOP, other, "US", "new"))
    assert store.states[other].text_hash == "new"
    batch.write_index_states([IndexState(SHOP, PID, "US", "newer")], [(SHOP, other)])
    assert store.states == {PID: IndexState(SHOP, PID, "US", "newer")}
    # A product outside the batch is read from the store.
    assert batch.get(SHOP, "p" + "3" * 31) is None and store.single_reads == 1


def textured_png(seed: int) -> bytes:
    from .test_local_features import product_picture

    out = io.BytesIO()
    product_picture(seed).save(out, format="PNG")
    return out.getvalue()


def test_an_image_gets_its_local_features_keyed_by_shop_and_labelled_with_its_country(rig):
    rig.put({IMG_A: textured_png(1), IMG_B: png((255, 0, 0))})

    rig.handle()

    key_a, key_b = (local_image_key(SHOP, PID, image_id) for image_id in (IMG_A, IMG_B))
    assert set(rig.local.images) == {key_a, key_b}
    assert rig.local.images[key_a].country == "US"
    assert len(rig.local.images[key_a].features) > 100
    assert len(rig.local.images[key_b].features) == 0  # a flat colour: indexed, it can never match
    assert rig.products.states[PID].images == {IMG_A: INDEXED, IMG_B: INDEXED}


def test_a_removed_image_and_then_the_deleted_product_leave_the_local_index(rig):
    rig.put({IMG_A: textured_png(1), IMG_B: textured_png(2)})
    rig.handle()

    rig.put({IMG_B: textured_png(2)})
    rig.handle()
    assert set(rig.local.images) == {local_image_key(SHOP, PID, IMG_B)}

    del rig.products.products[PID]
    rig.handle()
    assert rig.local.images == {}


def test_an_image_indexed_before_local_features_existed_is_indexed_again_once(rig):
    # Given a product whose image an older indexer embedded with CLIP only
    rig.put({IMG_A: textured_png(3)})
    rig.handle()
    state = rig.products.states[PID]
    rig.products.states[PID] = IndexState(SHOP, PID, state.country, state.text_hash, {IMG_A: CLIP_ONLY})
    rig.local.images.clear()

    # When its product's next event comes
    outcome = rig.handle()

    # Then the image gets its local features, and is not done a third time
    assert (outcome.action, outcome.images_embedded) == ("indexed", 1)
    assert set(rig.local.images) == {local_image_key(SHOP, PID, IMG_A)}
    assert rig.products.states[PID].images == {IMG_A: INDEXED}
    assert rig.handle().action == "unchanged"
