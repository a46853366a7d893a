"""Reading a question's constraints in four languages, refining it by follow-ups, and fitting products."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chatshop.assistant.constraints import (
    Constraints,
    Question,
    broken,
    effective_price,
    fits,
    parse_question,
    refine,
)
from chatshop.assistant.vocabulary import CatalogVocabulary, colours_of, sizes_of
from chatshop.shops.domain import Product
from chatshop.shops.money import Money
from tests.assistant_advice.labelled import load

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def product(pid: str, title: str, price: int = 2000, **fields) -> Product:
    currency = fields.pop("currency", "USD")
    sale = fields.pop("sale", None)
    return Product(
        id=pid,
        shop_id="shop",
        retailer_id=pid.upper(),
        title=title,
        price=Money(amount=price, currency=currency),
        sale_price=Money(amount=sale, currency=currency) if sale is not None else None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


APPAREL, RUNNING, FURNITURE = "Apparel > Socks", "Footwear > Running Shoes", "Outdoor > Camping > Furniture"
CASES = "Electronics > Accessories > Phone Cases"
CATALOG = [
    product("sock-blue-m", "Merino socks - blue - M", 1499, brand="Acme", category=APPAREL),
    product("sock-navy-l", "Merino socks - navy - L", 1499, brand="Acme", category=APPAREL),
    product("tee-red-xl", "Graphic tee - red - XL", 2400, brand="Kora", category="Apparel > T-shirts"),
    product("shoe-10", "Trail running shoes - black - 10", 11900, brand="Trailhead", category=RUNNING),
    product("chair", "Folding camping chair - green", 4500, brand="Ridgeline", category=FURNITURE),
    product("case", "Silicone phone case - pink", 1900, brand="Brightline", category=CASES),
    product("mat", "Non-slip yoga mat - purple", 3900, brand="Pulse", category="Sporting Goods > Yoga"),
    product("bottle", "Water bottle 1 L", 1500, brand="Nimbus", category="Outdoor > Water Bottles"),
]
VOCABULARY = CatalogVocabulary.from_products(CATALOG)


def read(text: str, language: str | None = "en") -> Question:
    return parse_question(text, VOCABULARY, language)


def bounds(text: str, language: str | None = None) -> tuple[Decimal | None, Decimal | None]:
    c = read(text, language).constraints
    return c.min_price, c.max_price


# --- Prices ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("socks under $20", (None, Decimal("19.99"))),
        ("socks less than 50", (None, Decimal("49.99"))),
        ("below 30 dollars", (None, Decimal("29.99"))),
        ("max 25", (None, Decimal("25"))),
        ("up to $60", (None, Decimal("60"))),
        ("no more than 40", (None, Decimal("40"))),
        ("40 or less", (None, Decimal("40"))),
        ("between 20 and 40", (Decimal("20"), Decimal("40"))),
        ("from 100 to 200", (Decimal("100"), Decimal("200"))),
        ("$20-$40", (Decimal("20"), Decimal("40"))),
        ("over 150", (Decimal("150.01"), None)),
        ("at least 50", (Decimal("50"), None)),
        ("menos de 30", (None, Decimal("29.99"))),
        ("por menos de 100 dólares", (None, Decimal("99.99"))),
        ("de máximo 20 dólares", (None, Decimal("20"))),
        ("entre 50 y 80", (Decimal("50"), Decimal("80"))),
        ("más de 100", (Decimal("100.01"), None)),
        ("no más de 40", (None, Decimal("40"))),
        ("até 120", (None, Decimal("120"))),
        ("abaixo de 20", (None, Decimal("19.99"))),
        ("entre 50 e 80", (Decimal("50"), Decimal("80"))),
        ("a partir de 30", (Decimal("30"), None)),
        ("30 से कम", (None, Decimal("29.99"))),
        ("100 डॉलर से कम", (None, Decimal("99.99"))),
        ("70 डॉलर तक", (None, Decimal("70"))),
        ("कम से कम 50", (Decimal("50"), None)),
        ("50 से 80 डॉलर के बीच", (Decimal("50"), Decimal("80"))),
        ("३० से कम", (None, Decimal("29.99"))),
    ],
)
def test_price_phrases_are_read_in_every_language(text, expected):
    assert bounds(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("under 1,299.99", Decimal("1299.98")),
        ("menos de 1.299,99", Decimal("1299.98")),
        ("até 29,90", Decimal("29.90")),
        ("under 2k", Decimal("1999.99")),
        ("hasta 2 mil", Decimal("2000")),
    ],
)
def test_numbers_are_read_with_either_separator(text, expected):
    assert bounds(text)[1] == expected


def test_under_is_one_minor_unit_below_in_the_catalogs_currency():
    yen = CatalogVocabulary.from_products([product("mug", "Mug", 1500, currency="JPY")])
    assert parse_question("mug under 3000", yen).constraints.max_price == Decimal("2999")


def test_a_price_phrase_leaves_the_product_words():
    question = read("merino socks under $20")
    assert question.terms == ("merino",)
    assert question.constraints.values("category") == ("Socks",)


def test_a_number_without_a_price_word_is_not_a_price():
    assert bounds("2-4 person tent") == (None, None)


# --- Cheap and in stock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("cheap socks", "en"),
        ("the cheapest socks", "en"),
        ("affordable socks", "en"),
        ("calcetines baratos", "es"),
        ("meias baratas", "pt_BR"),
        ("o mais barato", "pt_BR"),
        ("सस्ते मोज़े", "hi"),
    ],
)
def test_cheap_is_read_in_every_language(text, language):
    assert read(text, language).constraints.cheap


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("socks in stock", "en"),
        ("socks available now", "en"),
        ("calcetines en stock", "es"),
        ("calcetines disponibles", "es"),
        ("meias em estoque", "pt_BR"),
        ("स्टॉक में मोज़े", "hi"),
        ("उपलब्ध मोज़े", "hi"),
    ],
)
def test_in_stock_is_read_in_every_language(text, language):
    question = read(text, language)
    assert question.constraints.in_stock
    assert question.constraints.values("category") == ("Socks",)


def test_not_available_is_no_stock_constraint():
    assert not read("socks not available").constraints.in_stock


# --- Attributes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "colour"),
    [
        ("blue socks", "en", "blue"),
        ("calcetines azules", "es", "blue"),
        ("meias azuis", "pt_BR", "blue"),
        ("नीले मोज़े", "hi", "blue"),
        ("meias cor-de-rosa", "pt_BR", "pink"),
        ("azul marino", "es", "navy"),
        ("काली मोज़े", "hi", "black"),
    ],
)
def test_colour_words_of_every_language_name_one_colour(text, language, colour):
    assert read(text, language).constraints.values("color") == (colour,)


def test_a_colour_the_catalog_lacks_still_constrains():
    # "purple socks" in a shop without purple socks must find none, not any socks.
    question = read("purple socks")
    assert question.constraints.values("color") == ("purple",)
    assert not any(fits(p, question.constraints) for p in CATALOG if "sock" in p.id)


def test_several_colours_are_alternatives():
    assert read("grey or black socks").constraints.values("color") == ("black", "grey")


@pytest.mark.parametrize(
    ("text", "language", "size"),
    [
        ("socks in size M", "en", "M"),
        ("socks M", "en", "M"),
        ("socks in m", "en", "M"),
        ("tee XL", "en", "XL"),
        ("shoes size 10", "en", "10"),
        ("shoes size 9.5", "en", "9.5"),
        ("jeans waist 34", "en", "34"),
        ("socks in medium", "en", "M"),
        ("calcetines talla M", "es", "M"),
        ("zapatillas talla 40", "es", "40"),
        ("meias tamanho G", "pt_BR", "L"),
        ("vestido tamanho P", "pt_BR", "S"),
        ("हुडी XL साइज़ में", "hi", "XL"),
        ("जूते साइज़ 9", "hi", "9"),
    ],
)
def test_sizes_are_read_after_their_cue_or_as_the_catalogs_letters(text, language, size):
    assert read(text, language).constraints.values("size") == (size,)


@pytest.mark.parametrize("text", ["socks m", "a 2 L bottle", "water bottle 1 L"])
def test_letters_that_are_no_size_are_left(text):
    question = read(text)
    assert question.constraints.values("size") == ()
    assert not any(len(t) == 1 and t.isalpha() for t in question.terms)


def test_brands_and_categories_are_the_catalogs_own():
    question = read("Acme socks")
    assert question.constraints.attributes == (("brand", "Acme"), ("category", "Socks"))
    assert read("Nike socks").constraints.values("brand") == ()


def test_a_category_word_that_qualifies_another_is_a_product_word():
    assert read("camping chair").constraints.values("category") == ()
    assert read("camping chair").terms == ("camping", "chair")
    assert read("something for camping").constraints.values("category") == ("Camping",)
    assert read("mochila para camping", "es").terms == ("backpack", "camping")


def test_words_of_other_languages_are_searched_in_the_catalogs():
    running = read("zapatillas para correr", "es")
    assert running.constraints.values("category") == ("Running Shoes",)
    mat = read("tapete de yoga roxo", "pt_BR")
    assert mat.terms == ("yoga", "mat")
    assert mat.search_text == "yoga mat"
    assert read("ऊनी कंबल", "hi").terms == ("wool", "blanket")


def test_a_latin_word_of_an_english_question_is_english():
    # "jersey" is a Spanish sweater, but not in English.
    assert read("football jersey", "en").terms == ("football", "jersey")


def test_a_question_of_constraints_only_searches_for_them():
    question = read("something blue for camping")
    assert question.terms == ()
    assert question.search_text == "blue Camping"
    assert read("something under $30").search_text == ""


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07", "$$$ under under", "x" * 5000, "३०३०३०३०३०३०३०"])
def test_hostile_questions_are_read(text):
    assert isinstance(read(text), Question)


# --- Fitting ---------------------------------------------------------------------------------------


def test_the_effective_price_is_the_sale_price_when_lower():
    assert effective_price(product("a", "Mug", 2000, sale=1500)) == Decimal("15.00")
    assert effective_price(product("b", "Mug", 2000)) == Decimal("20.00")
    assert effective_price(product("c", "Mug", 1500, currency="JPY")) == Decimal("1500")


def test_a_product_on_sale_fits_a_budget_its_full_price_does_not():
    on_sale = product("pan", "Frying pan", 3499, sale=2799)
    assert fits(on_sale, Constraints(max_price=Decimal("29.99")))
    assert broken(product("pan2", "Frying pan", 3499), Constraints(max_price=Decimal("29.99"))) == ("price",)


def test_out_of_stock_and_counted_out_products_are_not_in_stock():
    wanted = Constraints(in_stock=True)
    assert fits(product("a", "Mug"), wanted)
    assert broken(product("b", "Mug", availability="out of stock"), wanted) == ("stock",)
    assert broken(product("c", "Mug", availability="preorder"), wanted) == ("stock",)
    assert broken(product("d", "Mug", inventory=0), wanted) == ("stock",)


def test_colours_are_read_from_the_title_before_the_description():
    socks = product("s", "Running socks - red", description="Pairs well with blue jeans.")
    assert colours_of(socks) == {"red"}
    beanie = product("b", "Knit beanie", description="One size. Colour: grey.")
    assert colours_of(beanie) == {"grey"}
    assert colours_of(product("n", "Sweater - navy - L")) == {"navy", "blue"}


def test_sizes_are_read_from_title_segments_and_size_marks():
    assert sizes_of(product("a", "Merino socks - blue - M")) == {"M"}
    assert sizes_of(product("b", "Trail shoes - black - 10")) == {"10"}
    assert sizes_of(product("c", "Hoodie - S/M")) == {"S", "M"}
    assert sizes_of(product("d", "Tee XXL")) == {"XXL"}
    assert sizes_of(product("e", "Dress", description="Size: 12")) == {"12"}
    assert sizes_of(product("f", "Water bottle 1 L - 750 ml")) == frozenset()
    assert sizes_of(product("g", "USB-C cable - 2 m")) == frozenset()


def test_broken_names_every_kind_a_product_misses():
    wanted = Constraints(
        max_price=Decimal("10"),
        in_stock=True,
        attributes=(("color", "blue"), ("size", "S"), ("brand", "Kora"), ("category", "Hoodies")),
    )
    assert broken(CATALOG[0], wanted) == ("price", "size", "brand", "category")
    loosely = Constraints(attributes=(("color", "blue"), ("brand", "acme"), ("category", "sock")))
    assert fits(CATALOG[0], loosely)


# --- Follow-ups --------------------------------------------------------------------------------------


def test_a_follow_up_replaces_the_constraint_of_its_kind():
    # Given
    first = read("blue socks under 20")
    # When
    refined = refine(first, CATALOG[:1], "in black", VOCABULARY, "en")
    # Then
    assert refined is not None
    assert refined.constraints.values("color") == ("black",)
    assert refined.constraints.values("category") == ("Socks",)
    assert refined.constraints.max_price == Decimal("19.99")


def test_cheaper_is_cheaper_than_the_cheapest_shown():
    first = read("running shoes")
    shown = [product("x", "Road shoes", 8999), product("y", "Trail shoes", 11900, sale=9500)]
    asked = [("cheaper", "en"), ("más barato", "es"), ("mais barato", "pt_BR"), ("इससे सस्ता", "hi")]
    for text, language in asked:
        refined = refine(first, shown, text, VOCABULARY, language)
        assert refined is not None
        assert refined.constraints.max_price == Decimal("89.98")


def test_cheaper_with_nothing_shown_asks_for_cheap():
    refined = refine(read("running shoes"), [], "cheaper", VOCABULARY, "en")
    assert refined is not None
    assert refined.constraints.cheap
    assert refined.constraints.max_price is None


def test_something_else_sets_the_shown_aside():
    first = read("blue socks")
    refined = refine(first, CATALOG[:2], "something else from Acme", VOCABULARY, "en")
    assert refined is not None
    assert refined.excluded == ("sock-blue-m", "sock-navy-l")
    assert refined.constraints.values("brand") == ("Acme",)


def test_a_new_bound_drops_the_old_one_it_contradicts():
    first = read("socks between 20 and 40")
    refined = refine(first, [], "under 15", VOCABULARY, "en")
    assert refined is not None
    assert (refined.constraints.min_price, refined.constraints.max_price) == (None, Decimal("14.99"))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("in size M", "en"),
        ("any in stock?", "en"),
        ("¿y en negro?", "es"),
        ("tamanho G", "pt_BR"),
        ("काले में दिखाओ", "hi"),
    ],
)
def test_follow_ups_in_every_language_refine(text, language):
    assert refine(read("socks"), [], text, VOCABULARY, language) is not None


@pytest.mark.parametrize("text", ["blue mugs", "thanks!", "what is your address"])
def test_a_follow_up_naming_a_product_or_nothing_is_no_refinement(text):
    assert refine(read("socks"), [], text, VOCABULARY, "en") is None


# --- Storage -----------------------------------------------------------------------------------------


def test_a_question_survives_a_json_round_trip():
    first = read("blue merino socks under $20 in stock")
    question = refine(first, CATALOG[:1], "something else", VOCABULARY, "en")
    assert question is not None
    stored = json.loads(json.dumps(question.to_dict()))
    assert Question.from_dict(stored) == question


def test_stored_constraints_are_checked():
    with pytest.raises(ValueError):
        Constraints.from_dict({"attributes": [["flavour", "lemon"]]})
    with pytest.raises(ValueError):
        Constraints.from_dict({"max_price": "cheap"})


def test_attribute_order_does_not_matter():
    a = Constraints(attributes=(("category", "Socks"), ("color", "blue")))
    assert a == Constraints(attributes=(("color", "blue"), ("category", "Socks")))


# --- The labelled set ------------------------------------------------------------------------------

LABELLED = load()
LABELLED_VOCABULARY = LABELLED.vocabulary()


@pytest.mark.parametrize("labelled", LABELLED.questions, ids=lambda q: q.id)
def test_the_labelled_constraints_of_every_question_are_read(labelled):
    assert LABELLED.asked(labelled, LABELLED_VOCABULARY).constraints == labelled.constraints


def test_the_labelled_catalogs_colours_and_sizes_are_read_as_labelled():
    for item in LABELLED.products:
        truth = LABELLED.truths[item.id]
        assert colours_of(item) == truth.colors, item.title
        assert sizes_of(item) == truth.sizes, item.title
