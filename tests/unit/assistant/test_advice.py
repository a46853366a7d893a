"""Advice from a catalog: what fits first, nothing unrelated offered as fitting, the nearest if none fits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chatshop.assistant.advice import COSINE_ALONE, COSINE_NEAR, COSINE_SURE, advise
from chatshop.assistant.constraints import Constraints, Question, fits, parse_question
from chatshop.assistant.vocabulary import CatalogVocabulary
from chatshop.shops.domain import Product
from chatshop.shops.money import Money
from tests.assistant_advice.labelled import load

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Found:
    """What the search reports of one product (``ScoredResult`` has these fields)."""

    product_id: str
    cosine: float = 0.0
    sku: bool = False


def product(pid: str, title: str, price: int, **fields) -> Product:
    sale = fields.pop("sale", None)
    return Product(
        id=pid,
        shop_id="shop",
        retailer_id=pid.upper(),
        title=title,
        price=Money(amount=price, currency="USD"),
        sale_price=Money(amount=sale, currency="USD") if sale is not None else None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


SOCKS, JACKETS, THROWS = "Apparel > Socks", "Apparel > Jackets", "Home > Decor > Throws"
CATALOG = [
    product(
        "sock-blue", "Merino wool socks - blue - M", 1499, category=SOCKS, brand="Acme", item_group_id="ms"
    ),
    product(
        "sock-blue-l", "Merino wool socks - blue - L", 1499, category=SOCKS, brand="Acme", item_group_id="ms"
    ),
    product(
        "sock-black", "Merino wool socks - black - M", 1499, category=SOCKS, brand="Acme", item_group_id="ms"
    ),
    product("sock-cheap", "Cotton crew socks - white - M", 999, category=SOCKS, brand="Kora"),
    product("sock-gone", "Wool hiking socks - blue - M", 1850, category=SOCKS, availability="out of stock"),
    product(
        "rain", "Packable rain jacket - yellow - M", 8900, category=JACKETS, description="Waterproof shell."
    ),
    product("down", "Down puffer jacket - black - M", 18900, category=JACKETS, sale=15900),
    product("throw", "Wool throw blanket - grey", 6900, category=THROWS),
    product("mug", "Stoneware mug - blue", 1400, category="Home > Kitchen > Mugs"),
]
VOCABULARY = CatalogVocabulary.from_products(CATALOG)


def ask(text: str, language: str = "en") -> Question:
    return parse_question(text, VOCABULARY, language)


def ids(products) -> list[str]:
    return [p.id for p in products]


# --- What fits -----------------------------------------------------------------------------------------


def test_products_that_fit_come_first_and_in_stock_before_out_of_stock():
    advice = advise(ask("blue socks"), CATALOG, [Found("sock-gone", 0.6), Found("sock-blue", 0.5)])
    assert advice.why == "fits"
    assert ids(advice.fitting)[0] == "sock-blue"
    assert "sock-gone" in ids(advice.fitting)
    assert ids(advice.fitting).index("sock-gone") > ids(advice.fitting).index("sock-blue")
    assert all(fits(p, ask("blue socks").constraints) for p in advice.fitting)


def test_one_product_of_each_group_comes_before_a_second_of_the_same():
    advice = advise(ask("socks"), CATALOG, [], limit=3)
    groups = [p.item_group_id or p.id for p in advice.fitting]
    assert len(set(groups)) == 3


def test_cheap_ranks_by_the_price_paid_now():
    question = ask("cheap jacket")
    advice = advise(question, CATALOG, [])
    assert ids(advice.fitting) == ["rain", "down"]
    assert ids(advise(ask("cheap socks"), CATALOG, []).fitting)[0] == "sock-cheap"


def test_a_sale_price_decides_the_budget():
    advice = advise(ask("jacket under 160"), CATALOG, [])
    assert ids(advice.fitting) == ["rain", "down"]


def test_a_question_without_product_words_is_answered_from_everything_that_fits():
    advice = advise(ask("something under $15"), CATALOG, [], limit=10)
    assert set(ids(advice.fitting)) == {"sock-blue", "sock-blue-l", "sock-black", "sock-cheap", "mug"}
    assert ids(advise(ask("anything blue"), CATALOG, [Found("mug", 0.4)]).fitting)[0] == "mug"


def test_the_limit_is_honoured():
    assert len(advise(ask("something under $100"), CATALOG, [], limit=2).fitting) == 2


# --- Relevance -------------------------------------------------------------------------------------


def test_the_searchs_first_result_is_not_offered_when_it_is_unrelated():
    # The search always answers something; a mug is no kayak however it ranks.
    advice = advise(ask("kayak"), CATALOG, [Found("mug", COSINE_NEAR - 0.1)])
    assert advice.fitting == ()
    assert advice.why == "nothing_relevant"
    assert advice.alternatives == ()


def test_a_neighbour_in_meaning_is_offered_only_as_another_kind():
    advice = advise(ask("kayak"), CATALOG, [Found("rain", COSINE_NEAR + 0.05)])
    assert advice.fitting == ()
    assert [(a.product.id, a.breaks) for a in advice.alternatives] == [("rain", ("category",))]


def test_where_products_are_named_by_every_word_a_mere_neighbour_does_not_fit():
    # A wool sock is near a wool blanket in meaning, but the shop has wool blankets.
    found = [Found("sock-blue", COSINE_SURE - 0.05), Found("throw", 0.7)]
    assert ids(advise(ask("wool blanket"), CATALOG, found).fitting) == ["throw"]


def test_a_very_near_neighbour_stands_beside_the_named():
    found = [Found("down", COSINE_SURE + 0.01)]
    assert set(ids(advise(ask("rain jacket"), CATALOG, found).fitting)) == {"rain", "down"}


def test_where_none_is_named_by_every_word_meaning_decides():
    # No jacket's title says "waterproof"; the rain jacket's description does.
    question = ask("waterproof jacket")
    found = [Found("rain", 0.4), Found("down", 0.2)]
    assert ids(advise(question, CATALOG, found).fitting) == ["rain"]


def test_words_no_product_has_do_not_hide_the_kind_asked_for():
    # No product says "warm": "a warm jacket" asks for the shop's jackets, the nearest in meaning first
    for cosine in (COSINE_ALONE + 0.01, COSINE_ALONE - 0.2):
        assert ids(advise(ask("warm jacket"), CATALOG, [Found("down", cosine)]).fitting) == ["down", "rain"]
    # With nothing left that says what is wanted, the catalog has no answer
    assert advise(ask("surfboard"), CATALOG, [Found("down", 0.2)]).fitting == ()


def test_price_and_colour_do_not_turn_neighbours_into_matches():
    # Nothing named "wool blanket" is under 20, so the near wool socks would fit the budget: not offered.
    advice = advise(ask("wool blanket under 20"), CATALOG, [Found("sock-blue", COSINE_SURE - 0.05)])
    assert advice.fitting == ()
    assert [a.product.id for a in advice.alternatives] == ["throw"]
    assert advice.alternatives[0].breaks == ("price",)


def test_a_typed_sku_is_relevant_whatever_the_words():
    advice = advise(ask("DOWN"), CATALOG, [Found("down", 0.0, sku=True)])
    assert ids(advice.fitting) == ["down"]


# --- When nothing fits ------------------------------------------------------------------------------


def test_when_nothing_fits_the_nearest_say_what_they_break():
    advice = advise(ask("purple socks"), CATALOG, [])
    assert advice.fitting == ()
    assert advice.why == "nothing_fits"
    assert advice.alternatives
    assert all(a.breaks == ("color",) for a in advice.alternatives)
    assert advice.broken == {a.product.id: a.breaks for a in advice.alternatives}


def test_the_nearest_price_is_nearer_than_another_colour():
    advice = advise(ask("blue socks under 14"), CATALOG, [])
    assert advice.fitting == ()
    assert advice.alternatives[0].product.id == "sock-blue"
    assert advice.alternatives[0].breaks == ("price",)


def test_another_kind_is_offered_only_when_the_kind_asked_for_has_nothing():
    advice = advise(ask("purple mug"), CATALOG, [], limit=3)
    assert [(a.product.id, a.breaks) for a in advice.alternatives] == [("mug", ("color",))]


def test_out_of_stock_is_named_when_stock_was_asked():
    advice = advise(ask("hiking socks in stock"), CATALOG, [])
    assert [(a.product.id, a.breaks) for a in advice.alternatives] == [("sock-gone", ("stock",))]


def test_products_set_aside_are_never_offered_again():
    question = ask("blue socks")
    aside = Question(question.text, question.terms, question.constraints, "en", ("sock-blue", "sock-blue-l"))
    advice = advise(aside, CATALOG, [])
    assert "sock-blue" not in ids(advice.fitting) + [a.product.id for a in advice.alternatives]
    assert ids(advice.fitting) == ["sock-gone"]


def test_search_results_the_catalog_lacks_are_never_named():
    advice = advise(ask("blue socks"), CATALOG, [Found("gone-from-catalog", 0.9)])
    assert "gone-from-catalog" not in ids(advice.fitting)


def test_an_empty_catalog_gives_empty_advice():
    advice = advise(ask("socks"), [], [Found("sock-blue", 0.9)])
    assert (advice.fitting, advice.alternatives, advice.why) == ((), (), "empty")


@pytest.mark.parametrize("language", ["es", "pt_BR", "hi"])
def test_questions_in_other_languages_are_advised_from_an_english_catalog(language):
    text = {"es": "calcetines azules", "pt_BR": "meias azuis", "hi": "नीले मोज़े"}[language]
    advice = advise(ask(text, language), CATALOG, [])
    assert ids(advice.fitting)[0] == "sock-blue"


# --- The labelled set, without the text model ---------------------------------------------------------

LABELLED = load()
LABELLED_VOCABULARY = LABELLED.vocabulary()


@pytest.mark.parametrize("labelled", LABELLED.questions, ids=lambda q: q.id)
def test_no_labelled_question_is_answered_with_a_product_that_breaks_it(labelled):
    # Words alone (no cosines): stricter than the search, so never less honest.
    question = LABELLED.asked(labelled, LABELLED_VOCABULARY)
    advice = advise(question, LABELLED.products, [], limit=3)
    for item in advice.fitting:
        assert not LABELLED.truly_breaks(item, labelled.constraints), item.title
        assert LABELLED.truly_wanted(item, labelled), item.title
    if labelled.none_fits:
        assert advice.fitting == ()
    for alternative in advice.alternatives:
        assert alternative.breaks


def test_words_alone_answer_most_labelled_questions_with_an_acceptable_product_first():
    answerable = [q for q in LABELLED.questions if not q.none_fits]
    first = 0
    for labelled in answerable:
        advice = advise(LABELLED.asked(labelled, LABELLED_VOCABULARY), LABELLED.products, [])
        first += bool(advice.fitting) and advice.fitting[0].id in labelled.acceptable
    # The text model adds the rest (synonyms, descriptions); see bench/advice_quality.py.
    assert first / len(answerable) >= 0.9


def test_constraints_compare_by_value():
    assert Constraints(max_price=Decimal("29.990")) == Constraints(max_price=Decimal("29.99"))
