"""Image search ranked by the local-feature matcher: alone with the untrained image model, as the
verifier of a trained one's proposals; shop and marketplace scopes; nothing matched said honestly."""

from __future__ import annotations

import pytest
from PIL import Image

from chatshop.search.documents import image_vector_key, local_image_key, product_document
from chatshop.search.local_features import LocalFeatureIndex, LocalFeatureParams, catalog_features
from chatshop.search.service import (
    CLIP_AND_LOCAL_RANKER,
    LOCAL_RANKER,
    SearchScope,
    SearchService,
    image_ranker,
)
from chatshop.search.vectors import VectorRecord

from .test_local_features import crop, in_a_scene, product_picture, rotation, upload
from .test_service import FakeCatalog, FakeEmbedder, FakeIndexes, FakeLexicon, make_product, make_shop

US_SHOP, MX_SHOP, OTHER_US_SHOP = "a" * 32, "b" * 32, "d" * 32
PARAMS = LocalFeatureParams()


class FakeLocalIndexes:
    """The region's local-feature index and one per shop, as the store keeps them."""

    def __init__(self, pictures: list[Image.Image]) -> None:
        features = [catalog_features(picture, PARAMS) for picture in pictures]
        self.region = LocalFeatureIndex.learn(features, PARAMS, seed=0)
        self.shops: dict[str, LocalFeatureIndex] = {}

    def add(self, shop_id: str, country: str, key: str, picture: Image.Image) -> None:
        features = catalog_features(picture, PARAMS)
        self.region.upsert(key, features, country)
        shop = self.shops.setdefault(shop_id, LocalFeatureIndex(self.region.vocabulary, PARAMS))
        shop.upsert(key, features, country)

    def index(self, shop_id: str | None = None) -> LocalFeatureIndex | None:
        if shop_id is None:
            return self.region
        return self.shops.get(shop_id, LocalFeatureIndex(self.region.vocabulary, PARAMS))


class World:
    """Products with pictures (seeds of product_picture), indexed as the indexer indexes them."""

    def __init__(self, trained: bool) -> None:
        self.embedder = FakeEmbedder(trained)
        self.catalog = FakeCatalog()
        self.indexes = FakeIndexes(self.embedder)
        self.pictures = {seed: upload(product_picture(seed)) for seed in range(8)}
        self.local = FakeLocalIndexes(list(self.pictures.values()))
        self.service = SearchService(self.embedder, self.indexes, FakeLexicon(), self.catalog, self.local)
        for shop in (make_shop(US_SHOP), make_shop(MX_SHOP, "MX"), make_shop(OTHER_US_SHOP)):
            self.catalog.shops[shop.id] = shop

    def add(self, product_id: str, shop_id: str, seeds: list[int], **fields) -> None:
        product = make_product(product_id, shop_id, f"Product {product_id}", product_id.upper(), **fields)
        self.catalog.products[product_id] = product
        country = self.catalog.shops[shop_id].country
        metadata = product_document(product, country).metadata
        for n, seed in enumerate(seeds):
            image_id = f"img{n}"
            picture = self.pictures[seed]
            vector = self.embedder.embed_images([picture])[0]
            self.indexes.spaces["image"].upsert(
                [VectorRecord(image_vector_key(product_id, image_id), vector, metadata)]
            )
            self.local.add(shop_id, country, local_image_key(shop_id, product_id, image_id), picture)


def catalog(trained: bool) -> World:
    world = World(trained)
    world.add("p-zero", US_SHOP, [0])
    world.add("p-one", US_SHOP, [1, 2])  # two pictures: either one finds it
    world.add("p-three", US_SHOP, [3], availability="out of stock")
    world.add("p-mx", MX_SHOP, [4])
    world.add("p-other", OTHER_US_SHOP, [5])
    return world


@pytest.fixture(scope="module")
def untrained() -> World:
    return catalog(trained=False)


@pytest.fixture(scope="module")
def trained() -> World:
    return catalog(trained=True)


def shop(shop_id: str = US_SHOP, in_stock_only: bool = False) -> SearchScope:
    return SearchScope(shop_id=shop_id, in_stock_only=in_stock_only)


def test_without_a_trained_model_the_matcher_ranks_and_results_carry_inliers(untrained: World) -> None:
    embedded = untrained.embedder.calls["images"]

    found = untrained.service.image_search(upload(rotation(product_picture(0))), shop(), 10)

    assert found.ranker == LOCAL_RANKER and found.reason is None
    assert [r.product_id for r in found.results] == ["p-zero"]  # only what verified: no padding
    assert found.results[0].inliers >= PARAMS.min_inliers
    assert found.results[0].score == found.results[0].inliers
    assert untrained.embedder.calls["images"] == embedded  # the untrained model is not even asked


@pytest.mark.parametrize("seed", [1, 2])
def test_a_product_with_several_pictures_is_found_by_any_of_them(untrained: World, seed: int) -> None:
    found = untrained.service.image_search(upload(crop(product_picture(seed))), shop(), 10)

    assert [r.product_id for r in found.results] == ["p-one"]


def test_the_marketplace_finds_the_country_s_products_of_every_shop_and_no_other_country(
    untrained: World,
) -> None:
    photo_of_us_product = upload(in_a_scene(product_picture(5)))
    photo_of_mx_product = upload(in_a_scene(product_picture(4)))

    us = untrained.service.image_search(photo_of_us_product, SearchScope(country="US"), 10)
    mx_from_us = untrained.service.image_search(photo_of_mx_product, SearchScope(country="US"), 10)
    mx = untrained.service.image_search(photo_of_mx_product, SearchScope(country="MX"), 10)

    assert [(r.product_id, r.shop_id) for r in us.results] == [("p-other", OTHER_US_SHOP)]
    assert mx_from_us.results == [] and mx_from_us.reason == "no_match"
    assert [r.product_id for r in mx.results] == ["p-mx"]


def test_a_shop_search_sees_only_that_shop(untrained: World) -> None:
    found = untrained.service.image_search(upload(product_picture(5)), shop(US_SHOP), 10)

    assert found.results == [] and found.reason == "no_match"


def test_an_in_stock_search_leaves_out_what_cannot_be_bought(untrained: World) -> None:
    photo = upload(crop(product_picture(3)))

    assert [r.product_id for r in untrained.service.by_image(photo, shop(), 10)] == ["p-three"]
    assert untrained.service.image_search(photo, shop(in_stock_only=True), 10).reason == "no_match"


def test_a_flat_colour_is_answered_nothing_matched_for_want_of_features(untrained: World) -> None:
    found = untrained.service.image_search(Image.new("RGB", (300, 200), (200, 40, 40)), shop(), 10)

    assert found.results == [] and found.reason == "no_features"


def test_a_product_outside_the_catalog_is_answered_nothing_matched(untrained: World) -> None:
    found = untrained.service.image_search(upload(product_picture(7)), SearchScope(country="US"), 10)

    assert found.results == [] and found.reason == "no_match"


def test_with_a_trained_model_it_proposes_and_the_matcher_verifies_first(trained: World) -> None:
    # The fake CLIP ranks by mean colour: the photographed product need not be its first guess.
    photo = upload(in_a_scene(product_picture(1)))

    found = trained.service.image_search(photo, shop(), 10)

    assert found.ranker == CLIP_AND_LOCAL_RANKER
    assert found.results[0].product_id == "p-one" and found.results[0].inliers >= PARAMS.min_inliers
    # The rest are CLIP's similar products, not verified, each with its cosine as the score
    rest = found.results[1:]
    assert {r.product_id for r in rest} == {"p-zero", "p-three"}
    assert all(r.inliers == 0 and 0 < r.score <= 1 for r in rest)


def test_the_ranker_follows_the_image_model() -> None:
    assert image_ranker(False) == LOCAL_RANKER
    assert image_ranker(True) == CLIP_AND_LOCAL_RANKER


def test_an_empty_region_answers_nothing_matched() -> None:
    class NoVocabulary:
        def index(self, shop_id=None):
            return None

    world = World(trained=False)
    service = SearchService(world.embedder, world.indexes, FakeLexicon(), world.catalog, NoVocabulary())

    found = service.image_search(upload(product_picture(0)), shop(), 10)

    assert (found.results, found.ranker, found.reason) == ([], LOCAL_RANKER, "no_match")
