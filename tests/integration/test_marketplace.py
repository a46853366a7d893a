"""The public marketplace: only where the rollout has it live, only active shops."""

from __future__ import annotations

import pytest

from .conftest import add_product, open_shop

pytestmark = pytest.mark.integration


def test_active_us_shops_are_listed_without_a_key(api, merchant):
    listed = open_shop(merchant, name="Listed")
    paused = open_shop(merchant, name="Paused", status="paused")
    ids, cursor = set(), None
    while True:
        reply = api.get("/marketplace/shops?country=US&limit=100" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200
        ids |= {shop["id"] for shop in reply.json["items"]}
        cursor = reply.json["next_cursor"]
        if not cursor:
            break
    assert listed["id"] in ids
    assert paused["id"] not in ids


def test_a_marketplace_shop_shows_its_products(api, merchant):
    shop = open_shop(merchant)
    add_product(merchant, shop["id"], "MK-1")
    reply = api.get(f"/marketplace/shops/{shop['id']}/products")
    assert reply.status == 200
    assert [p["retailer_id"] for p in reply.json["items"]] == ["MK-1"]


def test_a_paused_shop_is_not_in_the_marketplace(api, merchant):
    shop = open_shop(merchant, status="paused")
    assert api.get(f"/marketplace/shops/{shop['id']}/products").status == 404


@pytest.mark.parametrize("country", ["DE", "BR", "JP"])
def test_where_the_marketplace_is_not_live_it_is_403_naming_the_country(api, country):
    reply = api.get(f"/marketplace/shops?country={country}")
    assert reply.status == 403
    assert reply.error_code == "feature_not_available_in_region"
    assert country in reply.json["error"]["message"]


@pytest.mark.parametrize("query", ["country=ZZ", "country=", ""])
def test_a_missing_or_unknown_country_is_422(api, query):
    reply = api.get(f"/marketplace/shops?{query}")
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] == ["country"]
