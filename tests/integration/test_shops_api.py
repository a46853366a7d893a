"""Shops over HTTP: open, list, change, close; the rules of regions and input."""

from __future__ import annotations

import pytest

from .conftest import add_product, open_shop, sign_up, wait_for

pytestmark = pytest.mark.integration


def test_open_a_shop_and_read_it_back(merchant):
    reply = merchant.post(
        "/shops",
        {"name": "  Corner Shop ", "country": "US", "currency": "USD", "timezone": "America/Chicago"},
    )
    assert reply.status == 201
    shop = reply.json
    assert shop["name"] == "Corner Shop"
    assert shop["status"] == "active" and shop["timezone"] == "America/Chicago"
    assert merchant.get(f"/shops/{shop['id']}").json == shop


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"country": "XX"}, "country"),
        ({"country": "usa"}, "country"),
        ({"currency": "ABC"}, "currency"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "x" * 101}, "name"),
        ({"status": "deleted"}, "status"),
        ({"owner": "someone"}, "owner"),
        ({"name": 42}, "name"),
    ],
)
def test_bad_shop_input_is_422_naming_the_field(merchant, fields, field):
    body = {"name": "Corner Shop", "country": "US", "currency": "USD", **fields}
    reply = merchant.post("/shops", body)
    assert reply.status == 422, reply.raw
    assert field in reply.json["error"]["details"]["fields"]


def test_a_shop_is_opened_only_in_its_countrys_home_region(merchant):
    # Given this stack serves us-east-1, when a merchant opens a shop in Germany (home: eu-west-1)
    reply = merchant.post("/shops", {"name": "Laden", "country": "DE", "currency": "EUR"})
    # Then it is refused and told where German shops live
    assert reply.status == 403
    assert reply.error_code == "wrong_home_region"
    assert reply.json["error"]["details"] == {"country": "DE", "home_region": "eu-west-1"}


def test_list_my_shops_pages_through_only_mine(api):
    mine, other = sign_up(api), sign_up(api)
    opened = {open_shop(mine, name=f"Shop {i}")["id"] for i in range(5)}
    open_shop(other)
    seen, cursor = [], None
    while True:
        reply = mine.get("/shops?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200
        seen += [shop["id"] for shop in reply.json["items"]]
        cursor = reply.json["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(opened)


def test_change_a_shop(merchant, shop):
    reply = merchant.patch(f"/shops/{shop['id']}", {"name": "Renamed", "status": "paused"})
    assert reply.status == 200
    assert reply.json["name"] == "Renamed" and reply.json["status"] == "paused"
    assert reply.json["country"] == shop["country"]


def test_country_and_currency_cannot_change(merchant, shop):
    reply = merchant.patch(f"/shops/{shop['id']}", {"currency": "EUR"})
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] == ["currency"]


def test_closing_a_shop_hides_it_at_once_and_purges_its_catalog(app_stack, merchant, shop):
    # Given a shop with products
    for retailer_id in ("A-1", "A-2", "A-3"):
        assert add_product(merchant, shop["id"], retailer_id).status == 201
    # When it is closed
    assert merchant.delete(f"/shops/{shop['id']}").status == 204
    # Then nothing serves it any more
    assert merchant.get(f"/shops/{shop['id']}").status == 404
    assert merchant.get(f"/shops/{shop['id']}/products").status == 404
    assert shop["id"] not in [s["id"] for s in merchant.get("/shops").json["items"]]
    # And the cleanup worker removes its items from the table
    dynamodb = app_stack.clients.client("dynamodb")
    table = app_stack.stack.physical_id("ShopsTable")

    def partition_is_empty():
        items = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SHOP#{shop['id']}"}},
        )["Items"]
        return not items

    wait_for(partition_is_empty)
    assert merchant.delete(f"/shops/{shop['id']}").status == 404


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten", "cursor=not-a-cursor"])
def test_bad_paging_is_422(merchant, shop, query):
    reply = merchant.get(f"/shops/{shop['id']}/products?{query}")
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] in (["limit"], ["cursor"])


def test_the_openapi_document_is_served_publicly(api):
    reply = api.get("/openapi.json")
    assert reply.status == 200
    assert reply.json["openapi"].startswith("3.")
    assert "/shops/{shop_id}/products/{product_id}" in reply.json["paths"]


def test_a_shop_may_choose_the_language_the_assistant_speaks(merchant):
    reply = merchant.post("/shops", {"name": "Loja", "country": "US", "currency": "USD", "language": "pt-BR"})
    assert reply.status == 201, reply.raw
    assert reply.json["language"] == "pt-BR"
    assert merchant.get(f"/shops/{reply.json['id']}").json["language"] == "pt-BR"

    changed = merchant.patch(f"/shops/{reply.json['id']}", {"language": "hi"})
    assert changed.status == 200
    assert changed.json["language"] == "hi"
    assert merchant.get(f"/shops/{reply.json['id']}").json["language"] == "hi"


def test_a_patch_without_the_language_keeps_it(merchant):
    shop = open_shop(merchant, language="es")
    reply = merchant.patch(f"/shops/{shop['id']}", {"name": "Tienda"})
    assert reply.status == 200
    assert reply.json["language"] == "es"


def test_a_shop_that_chose_no_language_is_stored_without_one_and_reads_fine(app_stack, merchant):
    # Given a shop opened without a language, as every shop was before the field existed
    shop = open_shop(merchant)
    dynamodb = app_stack.clients.client("dynamodb")
    stored = dynamodb.get_item(
        TableName=app_stack.stack.physical_id("ShopsTable"),
        Key={"pk": {"S": f"SHOP#{shop['id']}"}, "sk": {"S": "PROFILE"}},
    )["Item"]
    # Then its item has no such attribute, and it reads back with none chosen
    assert "language" not in stored
    assert shop["language"] is None
    assert merchant.get(f"/shops/{shop['id']}").json["language"] is None
    assert shop["id"] in [s["id"] for s in merchant.get("/shops").json["items"]]


@pytest.mark.parametrize("language", ["fr", "pt", "EN", "pt-br", ""])
def test_only_the_languages_the_assistant_speaks_are_accepted(merchant, shop, language):
    created = merchant.post("/shops", {"name": "X", "country": "US", "currency": "USD", "language": language})
    assert created.status == 422
    assert created.json["error"]["details"]["fields"] == ["language"]
    patched = merchant.patch(f"/shops/{shop['id']}", {"language": language})
    assert patched.status == 422
    assert patched.json["error"]["details"]["fields"] == ["language"]
