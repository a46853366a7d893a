"""The attribute values a batch of new products is written with are the ones the pynamodb model writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.stub import Stubber
from pynamodb.exceptions import PutError

from chatshop.platform.config import load_settings
from chatshop.shops.domain import Money, Product, ProductImage
from chatshop.shops.product_store import ProductStore, plain_item, stored_version

NOW = datetime(2026, 12, 2, 0, 53, 21, 700001, tzinfo=UTC)


def product(**fields) -> Product:
    values = {
        "id": "p" + "1" * 31,
        "shop_id": "a" * 32,
        "retailer_id": "SKU-1",
        "title": "Red mug",
        "price": Money(amount=1999, currency="USD"),
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Product(**values)


PRODUCTS = {
    "a feed row": product(
        description="A mug, for tea",
        brand="Acme",
        link="https://example.com/p/1",
        image_link="https://example.com/p/1.jpg",
    ),
    "every optional field": product(
        sale_price=Money(amount=1500, currency="USD"),
        additional_image_links=["https://example.com/a.jpg", "https://example.com/b.jpg"],
        category="Home & Garden > Kitchen",
        item_group_id="GROUP-7",
        inventory=0,
        availability="out of stock",
        condition="refurbished",
    ),
    "images in every state": product(
        images=[
            ProductImage(id="b" * 32, content_type="image/png"),
            ProductImage(id="c" * 32, content_type="image/jpeg", index_status="indexed"),
            ProductImage(
                id="d" * 32, content_type="image/webp", index_status="rejected", index_error="image_truncated"
            ),
        ]
    ),
    "text beyond ASCII": product(title='Tasse « café » 漢字 "quoted" \\ \u2028', description="emoji 🍵"),
    "later versions and other time zones": product(
        version=12,
        created_at=datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2027, 6, 1, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-7))),
    ),
}


@pytest.fixture(scope="module")
def store() -> ProductStore:
    return ProductStore(load_settings({"CHATSHOP_SHOPS_TABLE": "shops", "AWS_REGION": "us-east-1"}))


@pytest.mark.parametrize("case", PRODUCTS.values(), ids=PRODUCTS.keys())
def test_a_plain_item_is_what_the_model_serialises(store, case):
    assert plain_item(case, "ab" * 32) == store._item(case, "ab" * 32).serialize()


def test_what_dynamodb_leaves_unprocessed_is_sent_again_and_then_fails_the_write(store, monkeypatch):
    # DynamoDB's own answers, stubbed at the client (botocore's Stubber): no network, no fake store.
    monkeypatch.setattr("chatshop.shops.product_store._UNPROCESSED_BACKOFF_S", 0.0)
    products = [product(id=f"p{k:031d}", retailer_id=f"SKU-{k}") for k in range(3)]
    items = [plain_item(p, "ab" * 32) for p in products]
    client = store._products._get_connection().connection.client
    left = {"shops": [{"PutRequest": {"Item": items[1]}}]}

    def request(*sent):
        return {
            "RequestItems": {"shops": [{"PutRequest": {"Item": i}} for i in sent]},
            "ReturnConsumedCapacity": "TOTAL",
        }

    # Given a first answer that leaves one item unprocessed, then one that takes it
    with Stubber(client) as stub:
        stub.add_response("batch_write_item", {"UnprocessedItems": left}, request(*items))
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, request(items[1]))
        # When the products are stored, then only the unprocessed one is sent again
        store._batch_write(items)
        stub.assert_no_pending_responses()

    # And an item DynamoDB keeps leaving fails the write once the attempts are spent
    with Stubber(client) as stub:
        stub.add_response("batch_write_item", {"UnprocessedItems": left}, request(*items))
        stub.add_response("batch_write_item", {"UnprocessedItems": left}, request(items[1]))
        stub.add_response("batch_write_item", {"UnprocessedItems": left}, request(items[1]))
        with pytest.raises(PutError):
            store._batch_write(items)
        stub.assert_no_pending_responses()


def raw_cases() -> dict[str, dict]:
    cases = {name: plain_item(p, "cd" * 32) for name, p in PRODUCTS.items()}
    bare = plain_item(PRODUCTS["a feed row"], "cd" * 32)
    del bare["images"]  # stored before images were kept on the product
    cases["no images attribute"] = bare
    nulls = plain_item(PRODUCTS["every optional field"], "cd" * 32)
    nulls["category"] = {"NULL": True}
    cases["a null attribute"] = nulls
    return cases


@pytest.mark.parametrize("raw", raw_cases().values(), ids=raw_cases().keys())
def test_a_product_read_from_its_attribute_values_is_the_one_the_model_reads(store, raw):
    assert store.stored_from_raw(raw) == stored_version(store._products.from_raw_data(raw))
