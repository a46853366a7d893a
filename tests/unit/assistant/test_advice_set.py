"""The labelled advice set is well formed: big enough, every label names real products that fit it,
and no product that fits is left out of a label."""

from __future__ import annotations

from collections import Counter

import pytest

from chatshop.assistant.constraints import fits
from tests.assistant_advice.labelled import load

DATA = load()
VOCABULARY = DATA.vocabulary()
PRODUCT_IDS = {p.id for p in DATA.products}


def test_the_set_is_big_enough_in_every_language():
    assert len(DATA.products) >= 200
    assert len(DATA.questions) >= 100
    languages = Counter(q.language for q in DATA.questions)
    assert languages["en"] > len(DATA.questions) / 2
    for language in ("es", "pt_BR", "hi"):
        assert languages[language] >= 15, language


def test_ids_are_unique():
    assert len(PRODUCT_IDS) == len(DATA.products)
    assert len({q.id for q in DATA.questions}) == len(DATA.questions)
    assert len({p.retailer_id for p in DATA.products}) == len(DATA.products)


def test_the_catalog_is_varied():
    tops = Counter((p.category or "").split(">")[0].strip() for p in DATA.products)
    assert len(tops) >= 6
    assert sum(p.availability != "in stock" for p in DATA.products) >= 10
    assert sum(p.sale_price is not None for p in DATA.products) >= 10
    assert len({p.brand for p in DATA.products}) >= 10


def test_every_constraint_kind_is_asked_in_every_language():
    for language in ("en", "es", "pt_BR", "hi"):
        asked = [q.constraints for q in DATA.questions if q.language == language]
        stated = {
            "max_price": any(c.max_price is not None for c in asked),
            "min_price": any(c.min_price is not None for c in asked),
            "cheap": any(c.cheap for c in asked),
            "in_stock": any(c.in_stock for c in asked),
            **{kind: any(c.values(kind) for c in asked) for kind in ("color", "size", "category")},
        }
        assert all(stated.values()), (language, stated)
    assert any(q.constraints.values("brand") for q in DATA.questions)
    assert sum(q.none_fits for q in DATA.questions) >= 5
    assert sum(q.after is not None for q in DATA.questions) >= 5


@pytest.mark.parametrize("labelled", DATA.questions, ids=lambda q: q.id)
def test_every_acceptable_product_exists_and_fits_its_question(labelled):
    assert set(labelled.acceptable) <= PRODUCT_IDS
    assert labelled.none_fits == (not labelled.acceptable)
    for product_id in labelled.acceptable:
        item = DATA.product(product_id)
        # By its labelled truth, and as the assistant reads the product's own words.
        assert not DATA.truly_breaks(item, labelled.constraints), item.title
        assert fits(item, labelled.constraints), item.title
        assert DATA.truly_wanted(item, labelled), item.title
        assert item.id not in labelled.shown or not labelled.sets_aside_shown


@pytest.mark.parametrize(
    "labelled", [q for q in DATA.questions if not q.constraints.cheap], ids=lambda q: q.id
)
def test_no_fitting_product_is_left_out_of_a_label(labelled):
    aside = set(labelled.shown) if labelled.sets_aside_shown else set()
    fitting = {
        p.id
        for p in DATA.products
        if DATA.truly_wanted(p, labelled)
        and not DATA.truly_breaks(p, labelled.constraints)
        and p.id not in aside
    }
    assert fitting == set(labelled.acceptable)


@pytest.mark.parametrize("labelled", [q for q in DATA.questions if q.constraints.cheap], ids=lambda q: q.id)
def test_cheap_labels_are_the_cheapest_that_fit(labelled):
    aside = set(labelled.shown) if labelled.sets_aside_shown else set()
    fitting = [
        p
        for p in DATA.products
        if DATA.truly_wanted(p, labelled)
        and not DATA.truly_breaks(p, labelled.constraints)
        and p.id not in aside
    ]
    acceptable = [DATA.product(i) for i in labelled.acceptable]
    assert acceptable
    cheapest_accepted = min(p.sale_price.amount if p.sale_price else p.price.amount for p in acceptable)
    in_stock = [p for p in fitting if p.availability == "in stock"] or fitting
    assert cheapest_accepted == min(p.sale_price.amount if p.sale_price else p.price.amount for p in in_stock)


def test_follow_ups_follow_labelled_questions_after_real_products():
    for labelled in DATA.questions:
        if labelled.after is None:
            assert labelled.shown == ()
            continue
        earlier = DATA.question(labelled.after)
        assert earlier.after is None
        assert set(labelled.shown) <= set(earlier.acceptable)
