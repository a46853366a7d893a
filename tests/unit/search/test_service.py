"""Search queries over the exact index, with a deterministic embedder and an in-memory catalog."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from chatshop.platform.errors import FeatureNotAvailable, NotFound, ValidationFailed
from chatshop.platform.rollout import Rollout
from chatshop.search.documents import image_vector_key, product_document
from chatshop.search.exact import ExactIndex
from chatshop.search.lexical import LexicalEntry, LexicalIndex, tokens
from chatshop.search.service import SearchScope, SearchService, resolve_scope
from chatshop.search.vectors import VectorRecord
from chatshop.shops.domain import Product, Shop
from chatshop.shops.money import Money
from chatshop.shops.product_store import Listed

NOW = datetime(2025, 1, 1, tzinfo=UTC)
TEXT_DIMENSIONS = 64
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255)}


def unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return (vector / norm if norm else vector).astype(np.float32)


class FakeEmbedder:
    """Words hashed into buckets (text space); mean colour (image space), where colour words of a
    text land too, standing in for CLIP's shared space."""

    def __init__(self, trained: bool = True) -> None:
        self.trained = trained
        self.calls: dict[str, int] = {"images": 0, "texts": 0, "texts_for_images": 0}

    @property
    def image_dimensions(self) -> int:
        return 3

    @property
    def text_dimensions(self) -> int:
        return TEXT_DIMENSIONS

    @property
    def image_model_trained(self) -> bool:
        return self.trained

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        self.calls["images"] += 1
        return np.stack(
            [unit(np.asarray(i.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) + 1) for i in images]
        )

    def embed_texts_for_images(self, texts: Sequence[str]) -> np.ndarray:
        self.calls["texts_for_images"] += 1
        rows = []
        for text in texts:
            colours = [COLOURS[word] for word in tokens(text) if word in COLOURS]
            rows.append(unit(np.asarray(colours or [(1, 1, 1)], dtype=np.float32).mean(axis=0) + 1))
        return np.stack(rows)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.calls["texts"] += 1
        rows = []
        for text in texts:
            vector = np.zeros(TEXT_DIMENSIONS, dtype=np.float32)
            for word in tokens(text):
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % TEXT_DIMENSIONS] += 1
            rows.append(unit(vector))
        return np.stack(rows)


def picture(colour: str) -> Image.Image:
    return Image.new("RGB", (8, 8), COLOURS[colour])


def make_shop(shop_id: str, country: str = "US", status: str = "active") -> Shop:
    return Shop(
        id=shop_id,
        merchant_id="m",
        name="Shop",
        description="",
        country=country,
        currency="USD",
        status=status,
        timezone="UTC",
        created_at=NOW,
        updated_at=NOW,
    )


def make_product(pid: str, shop_id: str, title: str, sku: str, **fields) -> Product:
    return Product(
        id=pid,
        shop_id=shop_id,
        retailer_id=sku,
        title=title,
        price=Money(amount=1000, currency="USD"),
        version=1,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


class FakeCatalog:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {}
        self.products: dict[str, Product] = {}
        self.batches: list[list[tuple[str, str]]] = []

    def get_listed(self, keys: Sequence[tuple[str, str]]) -> Listed:
        self.batches.append(list(keys))
        return Listed(
            shops={sid: self.shops[sid] for sid, _ in keys if sid in self.shops},
            products={pid: self.products[pid] for _, pid in keys if pid in self.products},
        )

    def get(self, shop_id: str) -> Shop | None:
        return self.shops.get(shop_id)


class FakeIndexes:
    def __init__(self, embedder: FakeEmbedder) -> None:
        self.spaces = {
            "image": ExactIndex(embedder.image_dimensions),
            "text": ExactIndex(embedder.text_dimensions),
        }

    def for_query(self, space: str, shop_id: str | None) -> ExactIndex:
        return self.spaces[space]


class FakeLexicon:
    def __init__(self) -> None:
        self.index = LexicalIndex()

    def for_query(self, shop_id: str | None) -> LexicalIndex:
        return self.index


US_SHOP, CA_SHOP, PAUSED_SHOP = "a" * 32, "b" * 32, "c" * 32


class World:
    """A catalog indexed the way the indexer indexes it."""

    def __init__(self, trained: bool = True) -> None:
        self.embedder = FakeEmbedder(trained)
        self.catalog = FakeCatalog()
        self.indexes = FakeIndexes(self.embedder)
        self.lexicon = FakeLexicon()
        self.service = SearchService(self.embedder, self.indexes, self.lexicon, self.catalog)

    def shop(self, shop: Shop) -> None:
        self.catalog.shops[shop.id] = shop

    def add(self, product: Product, images: Sequence[str] = ()) -> None:
        self.catalog.products[product.id] = product
        country = self.catalog.shops[product.shop_id].country
        document = product_document(product, country)
        text = VectorRecord(product.id, self.embedder.embed_texts([document.text])[0], document.metadata)
        self.indexes.spaces["text"].upsert([text])
        for n, colour in enumerate(images):
            vector = self.embedder.embed_images([picture(colour)])[0]
            key = image_vector_key(product.id, f"img{n}")
            self.indexes.spaces["image"].upsert([VectorRecord(key, vector, document.metadata)])
        entry = LexicalEntry.of(
            product.id, product.shop_id, country, product.retailer_id, product.title, product.brand
        )
        self.lexicon.index.upsert(entry)


@pytest.fixture
def world() -> World:
    w = World()
    w.shop(make_shop(US_SHOP))
    w.shop(make_shop(CA_SHOP, "CA"))
    w.shop(make_shop(PAUSED_SHOP, status="paused"))
    w.add(make_product("p-red-mug", US_SHOP, "Red ceramic mug", "MUG-R"), ["red", "white"])
    w.add(make_product("p-blue-mug", US_SHOP, "Blue ceramic mug", "MUG-B"), ["blue"])
    w.add(
        make_product("p-green-tee", US_SHOP, "Green cotton shirt", "TEE-G", availability="out of stock"),
        ["green"],
    )
    w.add(make_product("p-ca-mug", CA_SHOP, "Red travel mug", "MUG-CA"), ["red"])
    w.add(make_product("p-paused", PAUSED_SHOP, "Red mug", "MUG-P"), ["red"])
    return w


US = SearchScope(shop_id=US_SHOP)


def ids(results) -> list[str]:
    return [result.product_id for result in results]


def test_a_photo_finds_the_closest_product_first(world):
    results = world.service.by_image(picture("blue"), US, 10)
    assert ids(results)[0] == "p-blue-mug"
    assert results[0].score == pytest.approx(1.0, abs=1e-5)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_a_product_scores_by_its_best_image_and_appears_once(world):
    results = world.service.by_image(picture("white"), US, 10)
    assert ids(results)[0] == "p-red-mug"
    assert ids(results).count("p-red-mug") == 1


def test_results_come_with_products_read_in_one_batch(world):
    results = world.service.by_image(picture("red"), US, 2)
    assert len(results) == 2
    assert results[0].product.title == "Red ceramic mug"
    assert results[0].shop_id == US_SHOP
    assert len(world.catalog.batches) == 1


def test_a_typed_sku_comes_first_whatever_the_words_say(world):
    results = world.service.by_text("mug-b", US, 10)
    assert ids(results)[0] == "p-blue-mug"
    assert results[0].score == 1.0


def test_words_find_products_by_title(world):
    results = world.service.by_text("ceramic mug", US, 10)
    assert set(ids(results)[:2]) == {"p-red-mug", "p-blue-mug"}
    assert "p-green-tee" not in ids(results)[:2]


def colour_blind_world(trained: bool) -> World:
    """Titles that name no colour: only the pictures know which mug is which."""
    w = World(trained)
    w.shop(make_shop(US_SHOP))
    w.add(make_product("p-first", US_SHOP, "Ceramic mug", "M1"), ["red"])
    w.add(make_product("p-second", US_SHOP, "Ceramic mug large", "M2"), ["blue"])
    return w


def test_words_find_pictures_through_the_shared_space_of_a_trained_image_model():
    w = colour_blind_world(trained=True)
    assert ids(w.service.by_text("blue", US, 10))[0] == "p-second"
    assert ids(w.service.by_text("red", US, 10))[0] == "p-first"


def test_an_untrained_image_model_gets_no_vote():
    w = colour_blind_world(trained=False)
    assert w.service.by_text("blue", US, 10) == []
    assert ids(w.service.by_text("ceramic mug", US, 10))[:1] == ["p-first"]
    assert w.embedder.calls["texts_for_images"] == 0


def test_out_of_stock_products_are_left_out_only_when_asked(world):
    assert "p-green-tee" in ids(world.service.by_image(picture("green"), US, 10))
    in_stock = SearchScope(shop_id=US_SHOP, in_stock_only=True)
    assert "p-green-tee" not in ids(world.service.by_image(picture("green"), in_stock, 10))


def test_deleted_products_and_closed_shops_are_left_out(world):
    del world.catalog.products["p-blue-mug"]
    del world.catalog.shops[CA_SHOP]  # closed: the batch read leaves closed shops out
    assert "p-blue-mug" not in ids(world.service.by_image(picture("blue"), US, 10))
    assert ids(world.service.by_text("travel", SearchScope(country="CA"), 10)) == []


def test_marketplace_search_stays_in_its_country_and_skips_paused_shops(world):
    results = world.service.by_image(picture("red"), SearchScope(country="US"), 10)
    assert "p-ca-mug" not in ids(results)
    assert "p-paused" not in ids(results)
    assert ids(world.service.by_text("mug-ca", SearchScope(country="CA"), 10)) == ["p-ca-mug"]


def test_limit_is_honoured(world):
    assert len(world.service.by_image(picture("red"), SearchScope(country="US"), 1)) == 1


def test_an_empty_index_gives_an_empty_result():
    w = World()
    w.shop(make_shop(US_SHOP))
    assert w.service.by_image(picture("red"), US, 10) == []
    assert w.service.by_text("mug", US, 10) == []
    assert w.catalog.batches == []


@pytest.mark.parametrize("query", ["x" * 5000, "\x00\x07\x1b", "mug\u202e\u0000 " * 600, "   "])
def test_hostile_queries_are_answered(world, query):
    assert isinstance(world.service.by_text(query, US, 10), list)


# --- scope --------------------------------------------------------------------------------------

ROLLOUT = Rollout(
    {"us-east-1": ["US", "CA", "MX"], "eu-west-1": ["DE"]},
    {"visual_search": ["US", "CA", "DE"]},
)


def test_a_scope_is_one_shop_or_one_country(world):
    assert resolve_scope(world.catalog, ROLLOUT, "us-east-1", US_SHOP, None) == SearchScope(shop_id=US_SHOP)
    scope = resolve_scope(world.catalog, ROLLOUT, "us-east-1", None, "CA", in_stock_only=True)
    assert scope == SearchScope(country="CA", in_stock_only=True)
    for shop_id, country in ((None, None), (US_SHOP, "US")):
        with pytest.raises(ValidationFailed) as error:
            resolve_scope(world.catalog, ROLLOUT, "us-east-1", shop_id, country)
        assert error.value.fields == ["shop_id", "country"]


def test_an_unknown_country_is_422_and_one_not_live_here_is_403(world):
    with pytest.raises(ValidationFailed):
        resolve_scope(world.catalog, ROLLOUT, "us-east-1", None, "XX")
    with pytest.raises(FeatureNotAvailable) as error:
        resolve_scope(world.catalog, ROLLOUT, "us-east-1", None, "MX")
    assert error.value.status == 403
    with pytest.raises(FeatureNotAvailable):  # live in DE, but served from eu-west-1
        resolve_scope(world.catalog, ROLLOUT, "us-east-1", None, "DE")


def test_an_unknown_closed_or_paused_shop_is_404(world):
    for shop_id in ("f" * 32, PAUSED_SHOP):
        with pytest.raises(NotFound):
            resolve_scope(world.catalog, ROLLOUT, "us-east-1", shop_id, None)
