"""Every item type of the shops table reaches DynamoDB through one connection, so one botocore client.

A new client costs a botocore session and DynamoDB's service model parsed again (~80 ms of CPU), so a
shop's first GET (an API key, its merchant, the shop) must not make one per item type. DynamoDB's
answers are stubbed at that one client (botocore's Stubber); anything sent through another client
would go to a closed local port instead and fail the test.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import ANY, Stubber

from chatshop.platform import aws
from chatshop.platform.config import load_settings
from chatshop.shops.domain import Merchant
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.shop_store import ShopStore
from chatshop.shops.tables import bind

TABLE = "shops-one-client"
CREATED = "2026-12-02T10:00:00.000000+0000"
SHOP_ID = "a" * 32
MERCHANT_ID = "m" * 32


@pytest.fixture
def settings(monkeypatch):
    # Nothing listens on port 9: a request that misses the stub is refused at once.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    return load_settings({"CHATSHOP_SHOPS_TABLE": TABLE, "AWS_REGION": "us-east-1"})


def shop_item() -> dict:
    return {
        "pk": {"S": f"SHOP#{SHOP_ID}"},
        "sk": {"S": "PROFILE"},
        "merchant_id": {"S": MERCHANT_ID},
        "name": {"S": "Corner shop"},
        "country": {"S": "US"},
        "currency": {"S": "USD"},
        "status": {"S": "active"},
        "timezone": {"S": "UTC"},
        "created_at": {"S": CREATED},
        "updated_at": {"S": CREATED},
        "gsi1pk": {"S": f"MERCHANT#{MERCHANT_ID}"},
        "gsi1sk": {"S": f"SHOP#{CREATED}#{SHOP_ID}"},
    }


def read(key: dict) -> dict:
    return {"TableName": TABLE, "Key": key, "ConsistentRead": False, "ReturnConsumedCapacity": "TOTAL"}


def test_a_shops_first_get_and_a_listing_by_merchant_go_through_one_client(settings):
    # Given the stores a merchant's GET of a shop uses, the API key's item type read first
    merchants, shops = MerchantStore(settings), ShopStore(settings)
    client = bind(settings).api_keys._get_connection().connection.client
    key = {"pk": {"S": "APIKEY#" + "ab" * 32}, "sk": {"S": "APIKEY"}}
    profile = {"pk": {"S": f"MERCHANT#{MERCHANT_ID}"}, "sk": {"S": "PROFILE"}}

    with Stubber(client) as stub:
        stub.add_response(
            "get_item",
            {"Item": {**key, "merchant_id": {"S": MERCHANT_ID}, "created_at": {"S": CREATED}}},
            read(key),
        )
        stub.add_response(
            "get_item",
            {
                "Item": {
                    **profile,
                    "name": {"S": "Ada"},
                    "email": {"S": "ada@example.com"},
                    "created_at": {"S": CREATED},
                }
            },
            read(profile),
        )
        stub.add_response("get_item", {"Item": shop_item()}, read({k: shop_item()[k] for k in ("pk", "sk")}))
        stub.add_response(
            "query",
            {"Items": [shop_item()], "Count": 1, "ScannedCount": 1},
            {
                "TableName": TABLE,
                "IndexName": "gsi1",
                "KeyConditionExpression": ANY,
                "ExpressionAttributeNames": ANY,
                "ExpressionAttributeValues": {":0": {"S": f"MERCHANT#{MERCHANT_ID}"}},
                "Limit": 6,
                "ReturnConsumedCapacity": "TOTAL",
            },
        )

        # When the key, its merchant and the shop are read, and the merchant's shops listed by index
        merchant_id = merchants.merchant_id_for_key("ab" * 32)
        found = merchants.get(MERCHANT_ID)
        shop = shops.get(SHOP_ID)
        listing = shops.list_for_merchant(MERCHANT_ID, limit=5, cursor=None)

        # Then every read was answered through the one client, the index query included
        stub.assert_no_pending_responses()
    assert merchant_id == MERCHANT_ID
    assert found is not None and found[0].email == "ada@example.com"
    assert shop is not None and shop.name == "Corner shop"
    assert [s.id for s in listing.items] == [SHOP_ID]


def test_a_sign_up_transaction_goes_through_the_tables_client(settings):
    # Given the table's one client
    store = MerchantStore(settings)
    client = bind(settings).shops._get_connection().connection.client
    merchant = Merchant(
        id=MERCHANT_ID, name="Ada", email="ada@example.com", created_at=datetime(2026, 12, 2, tzinfo=UTC)
    )

    with Stubber(client) as stub:
        stub.add_response("transact_write_items", {})

        # When a merchant signs up (its profile and its key in one transaction)
        store.create(merchant, "cd" * 32)

        # Then the transaction was sent through it, not through a client of its own
        stub.assert_no_pending_responses()
    assert client.meta.config.connect_timeout == aws.CONNECT_TIMEOUT_S


def test_the_tables_client_reads_botocore_data_through_the_loader_of_our_other_clients(settings):
    # Given the table's client and a boto3 client of the same function
    table_client = bind(settings).merchants._get_connection().connection.client
    queue_client = aws.client("sqs", settings)

    # Then botocore's endpoints and models are parsed once for both
    assert table_client._loader is queue_client._loader
    assert table_client.meta.region_name == "us-east-1"
    assert table_client.meta.config.read_timeout == aws.READ_TIMEOUT_S


def test_a_shop_store_is_made_without_a_boto3_client(settings):
    # Given no client made yet in this process
    aws.clear_clients()

    # When the store a shop's GET reads is made
    ShopStore(settings)

    # Then it holds none: boto3's client (a shop's purge pages through it) waits for the purge
    assert aws._clients == {}
