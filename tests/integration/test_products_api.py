"""Products over HTTP: create, read, page, change with ETags, delete; and what bad input gets."""

from __future__ import annotations

import pytest

from .conftest import add_product, usd

pytestmark = pytest.mark.integration


def test_create_and_read_a_product(merchant, shop):
    reply = add_product(
        merchant,
        shop["id"],
        "SKU-1",
        title="Trail shoe",
        price=usd(12999),
        sale_price=usd(9999),
        availability="preorder",
        condition="refurbished",
        brand="Acme",
        link="https://example.com/p/sku-1",
        image_link="https://example.com/p/sku-1.jpg",
        additional_image_links=["https://example.com/p/sku-1-b.jpg"],
        category="footwear",
        item_group_id="TRAIL",
        inventory=7,
    )
    assert reply.status == 201
    product = reply.json
    assert product["price"] == {"amount": 12999, "currency": "USD"}
    assert product["retailer_id"] == "SKU-1" and product["inventory"] == 7
    fetched = merchant.get(f"/shops/{shop['id']}/products/{product['id']}")
    assert fetched.status == 200
    assert fetched.json == product
    assert fetched.headers["ETag"] == reply.headers["ETag"]


def test_a_retailer_id_is_unique_in_its_shop(merchant, shop):
    assert add_product(merchant, shop["id"], "DUP").status == 201
    again = add_product(merchant, shop["id"], "DUP", title="Another")
    assert again.status == 409
    assert again.error_code == "conflict"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"price": {"amount": -1, "currency": "USD"}}, "price.amount"),
        ({"price": {"amount": 19.99, "currency": "USD"}}, "price.amount"),
        ({"price": {"amount": "1999", "currency": "USD"}}, "price.amount"),
        ({"price": {"amount": 1999, "currency": "XYZ"}}, "price.currency"),
        ({"price": {"amount": 1999, "currency": "EUR"}}, "price.currency"),
        ({"inventory": -3}, "inventory"),
        ({"availability": "maybe"}, "availability"),
        ({"condition": "mint"}, "condition"),
        ({"link": "ftp://example.com/x"}, "link"),
        ({"sale_price": {"amount": 5000, "currency": "USD"}}, "sale_price"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_product_input_is_422_naming_the_field(merchant, shop, fields, field):
    reply = add_product(merchant, shop["id"], "BAD-1", **fields)
    assert reply.status == 422, reply.raw
    assert field in reply.json["error"]["details"]["fields"]


def test_pages_of_products_cover_the_catalog_once(merchant, shop):
    created = {add_product(merchant, shop["id"], f"PG-{i:02d}").json["id"] for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        reply = merchant.get(
            f"/shops/{shop['id']}/products?limit=3" + (f"&cursor={cursor}" if cursor else "")
        )
        assert reply.status == 200
        assert len(reply.json["items"]) <= 3
        seen += [item["id"] for item in reply.json["items"]]
        cursor, pages = reply.json["next_cursor"], pages + 1
        if not cursor:
            break
    assert sorted(seen) == sorted(created)
    assert pages >= 3


def test_filter_by_availability_and_category(merchant, shop):
    add_product(merchant, shop["id"], "F-1", availability="in stock", category="hats")
    add_product(merchant, shop["id"], "F-2", availability="out of stock", category="hats")
    add_product(merchant, shop["id"], "F-3", availability="in stock", category="shoes")
    hats = merchant.get(f"/shops/{shop['id']}/products?category=hats").json["items"]
    assert sorted(p["retailer_id"] for p in hats) == ["F-1", "F-2"]
    in_stock_hats = merchant.get(f"/shops/{shop['id']}/products?category=hats&availability=in%20stock")
    assert [p["retailer_id"] for p in in_stock_hats.json["items"]] == ["F-1"]


def test_a_cursor_of_another_shop_is_refused(merchant):
    first = merchant.post("/shops", {"name": "One", "country": "US", "currency": "USD"}).json
    second = merchant.post("/shops", {"name": "Two", "country": "US", "currency": "USD"}).json
    for i in range(3):
        add_product(merchant, first["id"], f"C-{i}")
    cursor = merchant.get(f"/shops/{first['id']}/products?limit=1").json["next_cursor"]
    assert cursor
    reply = merchant.get(f"/shops/{second['id']}/products?cursor={cursor}")
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] == ["cursor"]


def test_changes_need_the_current_etag(merchant, shop):
    created = add_product(merchant, shop["id"], "ETAG-1", inventory=5)
    path = f"/shops/{shop['id']}/products/{created.json['id']}"
    etag = created.headers["ETag"]
    # Without If-Match: refused, nothing changed
    assert merchant.patch(path, {"inventory": 4}).status == 428
    # With the current ETag: applied, and a new ETag comes back
    first = merchant.patch(path, {"inventory": 4}, headers={"If-Match": etag})
    assert first.status == 200 and first.json["inventory"] == 4
    assert first.headers["ETag"] != etag
    # A second editor still holding the old ETag is refused: no silent overwrite
    stale = merchant.patch(path, {"inventory": 9}, headers={"If-Match": etag})
    assert stale.status == 412
    assert merchant.get(path).json["inventory"] == 4


def test_retailer_id_cannot_be_changed(merchant, shop):
    created = add_product(merchant, shop["id"], "FIXED-1")
    path = f"/shops/{shop['id']}/products/{created.json['id']}"
    reply = merchant.patch(path, {"retailer_id": "OTHER"}, headers={"If-Match": created.headers["ETag"]})
    assert reply.status == 422
    assert reply.json["error"]["details"]["fields"] == ["retailer_id"]


def test_a_patch_that_breaks_a_rule_is_422(merchant, shop):
    created = add_product(merchant, shop["id"], "RULE-1", price=usd(1000))
    path = f"/shops/{shop['id']}/products/{created.json['id']}"
    reply = merchant.patch(path, {"sale_price": usd(2000)}, headers={"If-Match": created.headers["ETag"]})
    assert reply.status == 422
    assert "sale_price" in reply.json["error"]["details"]["fields"]


def test_a_patch_may_clear_an_optional_field_but_not_one_every_product_has(merchant, shop):
    created = add_product(merchant, shop["id"], "CLEAR-1", brand="Acme")
    path = f"/shops/{shop['id']}/products/{created.json['id']}"

    refused = merchant.patch(path, {"title": None}, headers={"If-Match": created.headers["ETag"]})
    assert refused.status == 422
    assert refused.json["error"]["details"]["fields"] == ["title"]

    cleared = merchant.patch(path, {"brand": None}, headers={"If-Match": created.headers["ETag"]})
    assert cleared.status == 200
    assert cleared.json["brand"] is None
    assert cleared.json["title"] == created.json["title"]


def test_delete_a_product(merchant, shop):
    created = add_product(merchant, shop["id"], "GONE-1")
    path = f"/shops/{shop['id']}/products/{created.json['id']}"
    assert merchant.delete(path).status == 204
    assert merchant.get(path).status == 404
    assert merchant.delete(path).status == 404


def test_the_last_full_page_promises_no_empty_one(merchant, shop):
    for i in range(4):
        add_product(merchant, shop["id"], f"EXACT-{i}")
    first = merchant.get(f"/shops/{shop['id']}/products?limit=2").json
    second = merchant.get(f"/shops/{shop['id']}/products?limit=2&cursor={first['next_cursor']}").json
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
