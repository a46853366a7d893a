"""Exact hits: SKUs, brand and title words."""

from __future__ import annotations

import pytest

from chatshop.search.lexical import LexicalEntry, LexicalIndex, clean_query, tokens

US_SHOP = "a" * 32
CA_SHOP = "b" * 32


def entry(pid: str, title: str, sku: str, shop: str = US_SHOP, country: str = "US", brand: str | None = None):
    return LexicalEntry.of(pid, shop, country, sku, title, brand)


@pytest.fixture
def index() -> LexicalIndex:
    return LexicalIndex(
        [
            entry("p1", "Crème Brûlée Torch", "TORCH-01", brand="Kitchenly"),
            entry("p2", "Kitchen torch refill gas", "GAS-7"),
            entry("p3", "Torch", "ca-torch", shop=CA_SHOP, country="CA"),
            entry("p4", "Garden hose 20m", "HOSE-20", brand="Acme"),
        ]
    )


def test_tokens_fold_case_accents_width_and_drop_stopwords():
    assert tokens("Crème BRÛLÉE for the ＴＯＲＣＨ") == ["creme", "brulee", "torch"]
    assert tokens("a 7 b") == ["7"]


def test_control_characters_are_dropped_and_long_queries_cut():
    assert clean_query("red\x00\x1b[31m shoes\u200b\n") == "red [31m shoes"
    assert len(clean_query("x" * 5000)) == 1000


def test_a_sku_is_found_first_whatever_its_case(index):
    hits = index.search("torch-01", 10)
    assert hits[0].product_id == "p1"
    assert hits[0].sku is True
    assert hits[0].score == 1.0


def test_a_sku_inside_a_sentence_is_found_too(index):
    hits = index.search("do you have HOSE-20 in stock", 10)
    assert (hits[0].product_id, hits[0].sku) == ("p4", True)


def test_words_rank_products_that_match_more_and_rarer_words_first(index):
    hits = index.search("kitchenly torch", 10, country="US")
    assert [hit.product_id for hit in hits] == ["p1", "p2"]
    assert hits[0].score > hits[1].score
    assert not any(hit.sku for hit in hits)


def test_brand_words_are_searchable(index):
    assert [hit.product_id for hit in index.search("acme", 10)] == ["p4"]


def test_scope_filters_by_shop_and_country(index):
    assert {hit.product_id for hit in index.search("torch", 10, country="CA")} == {"p3"}
    assert {hit.product_id for hit in index.search("torch", 10, shop_id=US_SHOP)} == {"p1", "p2"}
    assert not any(hit.sku for hit in index.search("ca-torch", 10, shop_id=US_SHOP))


def test_limit_is_honoured(index):
    assert len(index.search("torch", 1)) == 1


def test_a_deleted_or_changed_product_leaves_its_old_words(index):
    index.delete("p2")
    index.upsert(entry("p1", "Blowtorch", "TORCH-02"))
    assert not any(hit.sku for hit in index.search("torch-01", 10))
    assert index.search("kitchen", 10) == []
    assert [hit.product_id for hit in index.search("blowtorch", 10)] == ["p1"]
    assert len(index) == 3


def test_hostile_queries_return_normally(index):
    assert index.search("\x00\x01\x02", 10) == []
    assert index.search("", 10) == []
    assert isinstance(index.search("torch " * 1000, 10), list)


def test_it_survives_serialisation(index):
    copy = LexicalIndex.from_bytes(index.to_bytes())
    assert len(copy) == len(index)
    assert copy.search("kitchenly torch", 10) == index.search("kitchenly torch", 10)
    assert copy.to_bytes() == index.to_bytes()


def test_an_empty_index_finds_nothing():
    assert LexicalIndex().search("anything", 10) == []
