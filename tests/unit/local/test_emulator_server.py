"""The emulator's direct JSON answers for DynamoDB item calls equal moto's own serializer's."""

from __future__ import annotations

import base64
import json

import pytest
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from chatshop_local.emulator_server import (
    install_direct_json,
    install_linear_item_size_check,
    moto_serializer,
    plain_batch_write,
)

AUTH = (
    "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
)


@pytest.fixture(scope="module")
def dynamodb():
    install_direct_json()
    client = Client(DomainDispatcherApplication(create_backend_app))

    def call(action: str, body: dict) -> tuple[int, dict]:
        headers = {
            "X-Amz-Target": f"DynamoDB_20120810.{action}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": AUTH,
        }
        response = client.post("/", headers=headers, data=json.dumps(body))
        return response.status_code, json.loads(response.data)

    call(
        "CreateTable",
        {
            "TableName": "items",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    call("PutItem", {"TableName": "items", "Item": ITEM})
    return call


ITEM = {
    "pk": {"S": "P"},
    "sk": {"S": "1"},
    "n": {"N": "12.50"},
    "b": {"B": base64.b64encode(b"\x00\xff").decode()},
    "ok": {"BOOL": True},
    "nothing": {"NULL": True},
    "l": {"L": [{"S": "a"}, {"N": "1"}]},
    "m": {"M": {"inner": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}}},
    "text": {"S": "café ✓"},
}

CALLS = [
    # The item is there before each of the two calls, so both return it as the old one.
    ("PutItem", {"TableName": "items", "Item": ITEM, "ReturnValues": "ALL_OLD"}),
    ("GetItem", {"TableName": "items", "Key": {"pk": {"S": "P"}, "sk": {"S": "1"}}}),
    ("GetItem", {"TableName": "items", "Key": {"pk": {"S": "P"}, "sk": {"S": "missing"}}}),
    (
        "Query",
        {
            "TableName": "items",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "P"}},
            "Limit": 1,
        },
    ),
    ("Scan", {"TableName": "items"}),
    ("BatchGetItem", {"RequestItems": {"items": {"Keys": [{"pk": {"S": "P"}, "sk": {"S": "1"}}]}}}),
    (
        "UpdateItem",
        {
            "TableName": "items",
            "Key": {"pk": {"S": "P"}, "sk": {"S": "1"}},
            "UpdateExpression": "SET ok = :f",
            "ExpressionAttributeValues": {":f": {"BOOL": False}},
            "ReturnValues": "ALL_NEW",
        },
    ),
]


@pytest.mark.parametrize("action, body", CALLS, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CALLS)])
def test_direct_answers_match_motos_serializer(dynamodb, action, body):
    direct = dynamodb(action, body)
    with moto_serializer():
        serialized = dynamodb(action, body)
    assert direct == serialized


def test_direct_stream_records_match_motos_serializer():
    # Given a table whose stream holds an insert, a change and a removal
    install_direct_json()
    client = Client(DomainDispatcherApplication(create_backend_app))

    def call(target: str, action: str, body: dict) -> dict:
        headers = {
            "X-Amz-Target": f"{target}.{action}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": AUTH,
        }
        response = client.post("/", headers=headers, data=json.dumps(body))
        assert response.status_code == 200, response.data
        return json.loads(response.data)

    table = call(
        "DynamoDB_20120810",
        "CreateTable",
        {
            "TableName": "streamed",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    stream_arn = table["TableDescription"]["LatestStreamArn"]
    key = {"pk": {"S": "P"}, "sk": {"S": "1"}}
    call("DynamoDB_20120810", "PutItem", {"TableName": "streamed", "Item": {**ITEM, "b": {"S": "text"}}})
    call("DynamoDB_20120810", "PutItem", {"TableName": "streamed", "Item": {**key, "n": {"N": "2"}}})
    call("DynamoDB_20120810", "DeleteItem", {"TableName": "streamed", "Key": key})
    streams = "DynamoDBStreams_20120810"
    shard = call(streams, "DescribeStream", {"StreamArn": stream_arn})["StreamDescription"]["Shards"][0]
    iterator = call(
        streams,
        "GetShardIterator",
        {"StreamArn": stream_arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]

    # When its records are read directly and through moto's serializer
    direct = call(streams, "GetRecords", {"ShardIterator": iterator})
    with moto_serializer():
        serialized = call(streams, "GetRecords", {"ShardIterator": iterator})

    # Then both say the same, but for the next iterator (a new one each time)
    assert [r["eventName"] for r in direct["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert direct["Records"] == serialized["Records"]
    assert set(direct) == set(serialized)


@pytest.mark.parametrize("size, status", [(300_000, 200), (404_000, 200), (406_000, 400)])
def test_items_over_400_kb_are_refused_as_moto_refuses_them(dynamodb, size, status):
    # Given moto's item size check made linear
    install_linear_item_size_check()
    # When an item of about ``size`` bytes, in several attributes, is put
    parts = {f"part{i}": {"S": "x" * (size // 4)} for i in range(4)}
    got, body = dynamodb(
        "PutItem", {"TableName": "items", "Item": {"pk": {"S": "big"}, "sk": {"S": str(size)}, **parts}}
    )
    # Then it is stored, or refused as too large
    assert got == status, body
    if status == 400:
        assert "Item size has exceeded the maximum allowed size" in body["message"]


def _moto_parse(body: dict) -> dict:
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("BatchWriteItem")
    parser = PROTOCOL_PARSERS["json"](operation, map_type=dict)
    request = {"method": "POST", "values": {}, "headers": {}, "url_path": "/", "url_params": {}}
    return parser.parse({**request, "body": json.dumps(body).encode()})


def _writes(*items: dict, deletes: tuple = (), **options: str) -> dict:
    requests = [{"PutRequest": {"Item": item}} for item in items]
    requests += [{"DeleteRequest": {"Key": key}} for key in deletes]
    return {"RequestItems": {"items": requests}, **options}


PLAIN_ITEM = {
    "pk": {"S": "SHOP#1"},
    "sk": {"S": "PRODUCT#p1"},
    "version": {"N": "3"},
    "ok": {"BOOL": True},
    "none": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "sizes": {"NS": ["1", "2.5"]},
    "fields": {"M": {"title": {"S": "Linen"}, "empty": {"S": ""}, "list": {"L": [{"N": "1"}, {"S": "x"}]}}},
    "images": {"M": {}},
}


@pytest.mark.parametrize(
    "body",
    [
        _writes(PLAIN_ITEM),
        _writes(
            PLAIN_ITEM, {"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#p2"}}, ReturnConsumedCapacity="TOTAL"
        ),
        _writes(deletes=({"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#p1"}},)),
        {"RequestItems": {"a": [{"PutRequest": {"Item": PLAIN_ITEM}}], "b": []}},
    ],
)
def test_a_plain_batch_write_is_taken_as_moto_parses_it(body):
    assert plain_batch_write(json.dumps(body).encode()) == _moto_parse(body)


@pytest.mark.parametrize(
    "body",
    [
        _writes({**PLAIN_ITEM, "b": {"B": base64.b64encode(b"\x00").decode()}}),
        _writes({**PLAIN_ITEM, "bs": {"BS": [base64.b64encode(b"\x01").decode()]}}),
        _writes({**PLAIN_ITEM, "fields": {"M": {"inner": {"B": "AA=="}}}}),
        _writes({**PLAIN_ITEM, "n": {"S": None}}),
        _writes({**PLAIN_ITEM, "odd": {"X": "1"}}),
        _writes(PLAIN_ITEM, ReturnConsumedCapacity=None),
        _writes(PLAIN_ITEM, Unknown="1"),
        {"RequestItems": {"items": [{"PutRequest": {"Item": PLAIN_ITEM, "Extra": 1}}]}},
        {"RequestItems": {"items": [{"PutRequest": {"Item": PLAIN_ITEM}, "DeleteRequest": {"Key": {}}}]}},
    ],
)
def test_anything_else_goes_to_motos_parser(body):
    assert plain_batch_write(json.dumps(body).encode()) is None
    _moto_parse(body)  # which still answers
