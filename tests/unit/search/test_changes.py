"""Stream records of the shops table turned into index jobs, on records shaped as Lambda delivers them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chatshop.platform.config import Settings
from chatshop.search.changes import (
    PRODUCT_KEY_PREFIX,
    SHOP_KEY_PREFIX,
    IndexQueue,
    ProductChange,
    indexed_content_changed,
    product_change,
)
from chatshop.shops.product_store import index_state_key, product_key
from chatshop.shops.shop_store import shop_key
from chatshop.shops.tables import bind

SHOP = "5d1c6a2f0e3b4c7d8e9fa0b1c2d3e4f5"
PRODUCT = "p0a1b2c3d4e5f60718293a4b5c6d7e8f"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/shops/stream/2026-05-01T00:00:00.000"


def product_image(**overrides: Any) -> dict[str, Any]:
    """A product item in DynamoDB's JSON, serialised by the same model the product store writes with."""
    products = bind(Settings(shops_table="shops")).products
    values: dict[str, Any] = {
        "pk": shop_key(SHOP),
        "sk": product_key(PRODUCT),
        "retailer_id": "SKU-1",
        "availability": "in stock",
        "fields": {"title": "Trail shoe", "brand": "Acme", "availability": "in stock"},
        "images": {"a" * 32: {"content_type": "image/jpeg"}},
        "content_hash": "hash-1",
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        **overrides,
    }
    return products(**values).serialize()


def stream_record(
    event_name: str, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None
) -> dict[str, Any]:
    image = new or old
    assert image is not None
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": 1777636800,
        "Keys": {"pk": image["pk"], "sk": image["sk"]},
        "SequenceNumber": "1100000000017454423009",
        "SizeBytes": 412,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        change["NewImage"] = new
    if old is not None:
        change["OldImage"] = old
    return {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": STREAM_ARN,
    }


def test_a_new_product_is_a_created_job_naming_the_record():
    change = product_change(stream_record("INSERT", new=product_image()))
    assert change == ProductChange(
        event="ProductCreated",
        shop_id=SHOP,
        product_id=PRODUCT,
        event_id="c4ca4238a0b923820dcc509a6f75849b",
        sequence="1100000000017454423009",
    )


def test_a_removed_product_is_a_deleted_job():
    change = product_change(stream_record("REMOVE", old=product_image()))
    assert change is not None
    assert (change.event, change.shop_id, change.product_id) == ("ProductDeleted", SHOP, PRODUCT)


@pytest.mark.parametrize(
    "changed",
    [
        {"content_hash": "hash-2", "version": 2},
        {"availability": "out of stock"},
        {"images": {"a" * 32: {"content_type": "image/jpeg"}, "b" * 32: {"content_type": "image/png"}}},
        {"images": {}},
        {"images": {"a" * 32: {"content_type": "image/webp"}}},
    ],
    ids=["catalog-fields", "availability", "image-added", "image-removed", "image-type"],
)
def test_a_change_to_what_is_indexed_is_a_modified_job(changed):
    change = product_change(stream_record("MODIFY", old=product_image(), new=product_image(**changed)))
    assert change is not None and change.event == "ProductModified"


def test_the_indexers_own_note_on_an_image_is_not_a_job():
    # Given the indexer records that it indexed (or rejected) an image on the product
    indexed = {"a" * 32: {"content_type": "image/jpeg", "index_status": "rejected", "index_error": "bomb"}}
    record = stream_record("MODIFY", old=product_image(), new=product_image(images=indexed))
    # Then nothing goes back to the indexer, so its bookkeeping cannot loop
    assert product_change(record) is None


def test_a_write_that_changes_nothing_indexed_is_not_a_job():
    touched = product_image(updated_at=datetime(2026, 5, 2, tzinfo=UTC), version=2)
    assert product_change(stream_record("MODIFY", old=product_image(), new=touched)) is None


def test_without_both_images_a_modification_counts_as_a_change():
    assert indexed_content_changed(None, product_image())
    assert indexed_content_changed(product_image(), None)
    record = stream_record("MODIFY", new=product_image())
    assert product_change(record) is not None


@pytest.mark.parametrize(
    "keys",
    [
        {"pk": shop_key(SHOP), "sk": "PROFILE"},
        {"pk": shop_key(SHOP), "sk": f"IMPORT#{'c' * 32}"},
        {"pk": index_state_key(SHOP), "sk": product_key(PRODUCT)},
        {"pk": "MERCHANT#m1", "sk": "PROFILE"},
        {"pk": shop_key(""), "sk": product_key(PRODUCT)},
    ],
    ids=["shop", "import", "index-state", "merchant", "no-shop-id"],
)
def test_items_that_are_not_products_are_passed_over(keys):
    item = {name: {"S": value} for name, value in keys.items()}
    assert product_change(stream_record("INSERT", new=item)) is None


def test_an_unknown_event_name_is_passed_over():
    assert product_change(stream_record("TTL_EXPIRE", old=product_image())) is None


def test_the_message_is_the_json_the_indexer_reads():
    change = product_change(stream_record("INSERT", new=product_image()))
    assert change is not None
    assert json.loads(change.to_message()) == {
        "event": "ProductCreated",
        "shop_id": SHOP,
        "product_id": PRODUCT,
        "event_id": "c4ca4238a0b923820dcc509a6f75849b",
        "sequence": "1100000000017454423009",
    }


def test_the_indexer_accepts_the_message():
    from chatshop.search.indexer import IndexEvent

    change = product_change(
        stream_record("MODIFY", old=product_image(), new=product_image(version=2, content_hash="h2"))
    )
    assert change is not None
    event = IndexEvent.model_validate_json(change.to_message())
    assert (event.event, event.shop_id, event.product_id) == ("ProductModified", SHOP, PRODUCT)


def test_the_key_prefixes_are_the_shops_tables_own():
    assert shop_key(SHOP) == SHOP_KEY_PREFIX + SHOP
    assert product_key(PRODUCT) == PRODUCT_KEY_PREFIX + PRODUCT


class _FakeSqs:
    """SendMessageBatch that takes every entry but those whose body names a refused product."""

    def __init__(self, refused: set[str]) -> None:
        self.refused = refused
        self.calls: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:  # noqa: N803 - boto3's names
        self.calls.append([json.loads(entry["MessageBody"])["product_id"] for entry in Entries])
        failed = [
            {"Id": entry["Id"], "Code": "InternalError", "SenderFault": False}
            for entry in Entries
            if json.loads(entry["MessageBody"])["product_id"] in self.refused
        ]
        return {"Successful": [], "Failed": failed}


def _queue(sqs: _FakeSqs) -> IndexQueue:
    queue = IndexQueue.__new__(IndexQueue)
    queue._url, queue._sqs = "https://queue", sqs
    return queue


def _changes(count: int) -> list[ProductChange]:
    return [ProductChange("ProductCreated", "s", f"p{i:02d}", f"e{i}", str(i)) for i in range(count)]


def test_jobs_are_queued_ten_to_a_call_in_order():
    sqs = _FakeSqs(refused=set())
    assert _queue(sqs).send_in_order(_changes(23)) is None
    assert [len(call) for call in sqs.calls] == [10, 10, 3]
    assert [p for call in sqs.calls for p in call] == [f"p{i:02d}" for i in range(23)]


def test_queueing_stops_at_the_first_refused_job_and_says_where_it_is():
    sqs = _FakeSqs(refused={"p13", "p17"})
    assert _queue(sqs).send_in_order(_changes(30)) == 13
    assert len(sqs.calls) == 2  # nothing after the failing chunk is queued ahead of it
