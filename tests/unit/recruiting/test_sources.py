"""Where a conversation came from, and what an order is credited to (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatshop.messaging.inbound import Referral
from chatshop.recruiting.sources import (
    Source,
    credited_source,
    from_referral,
    link_code_in,
    match_product,
    without_code,
)
from chatshop.shops.domain import Product
from chatshop.shops.money import Money

START = datetime(2026, 12, 1, 12, tzinfo=UTC)


def product(retailer_id: str, title: str, link: str | None = None) -> Product:
    return Product(
        id=f"p{abs(hash(retailer_id)):031x}"[:32],
        shop_id="s1",
        retailer_id=retailer_id,
        title=title,
        price=Money(amount=1000, currency="USD"),
        link=link,
        version=1,
        created_at=START,
        updated_at=START,
    )


CATALOG = [
    product("TEE-1", "Cotton tee", "https://shop.example/p/tee"),
    product("TEE-2", "Cotton tee, long sleeve"),
    product("HAT-9", "Knit hat"),
]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hi! I would like to know more. [K7QM2ZPA]", "K7QM2ZPA"),
        ("hola [k7qm2zpa] gracias", "K7QM2ZPA"),
        ("[K7QM2ZP]", None),  # too short
        ("[K7QM2ZP0]", None),  # 0 is not in the alphabet
        ("K7QM2ZPA", None),  # not in brackets
        (None, None),
    ],
)
def test_a_links_code_is_found_in_the_prefilled_message(text, code):
    assert link_code_in(text) == code


def test_the_code_comes_out_of_the_words():
    assert without_code("Hi! More please. [K7QM2ZPA]", "K7QM2ZPA") == "Hi! More please."


def test_an_ad_names_the_product_by_its_page_then_its_retailer_id_then_its_title():
    assert match_product(CATALOG, "https://www.shop.example/p/tee/?utm=x", None).retailer_id == "TEE-1"
    assert match_product(CATALOG, "https://ads.example/c/hat-9", None).retailer_id == "HAT-9"
    assert match_product(CATALOG, None, "New: Cotton tee, long sleeve!").retailer_id == "TEE-2"
    assert match_product(CATALOG, "https://ads.example/spring", "Spring sale") is None


def test_a_referral_is_an_ad_or_a_post_with_its_click_id():
    referral = Referral(source_type="post", source_id="77", headline="Knit hat season", ctwa_clid="c1")
    source = from_referral(referral, CATALOG)
    assert (source.kind, source.key, source.retailer_id, source.ctwa_clid) == (
        "post",
        "post:77",
        "HAT-9",
        "c1",
    )
    assert from_referral(Referral(source_type="ad"), CATALOG).key == "ad:unknown"


def test_an_order_is_credited_within_the_window_and_organic_after_it():
    ad = Source(kind="ad", id="6012").as_dict()
    assert credited_source(ad, START, START + timedelta(days=7), 7).key == "ad:6012"
    assert credited_source(ad, START, START + timedelta(days=7, seconds=1), 7).key == "organic"
    assert credited_source(ad, None, START, 7).key == "organic"
    assert credited_source(None, START, START, 7).key == "organic"
    # The orders context's own organic mark reads as organic.
    assert Source.of({"type": "organic"}).key == "organic"


def test_a_reports_range_defaults_to_the_last_30_days_and_refuses_what_is_no_date():
    from datetime import date

    from chatshop.platform.errors import ValidationFailed
    from chatshop.recruiting.acquisition import report_range

    today = date(2026, 12, 2)
    assert report_range(None, None, today) == (date(2026, 11, 3), today)
    assert report_range("2026-12-01", None, today) == (date(2026, 12, 1), today)
    for bad in ("", "2026-13-01", "yesterday"):
        with pytest.raises(ValidationFailed):
            report_range(None, bad, today)
