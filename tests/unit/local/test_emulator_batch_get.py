"""A plain BatchGetItem request is taken as decoded: exactly what moto's request parser hands on."""

from __future__ import annotations

import base64
import json

import pytest
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.utils import get_service_model

from chatshop_local.emulator_server import plain_batch_get


def motos_parse(body: dict) -> dict:
    operation = get_service_model("dynamodb").operation_model("BatchGetItem")
    parser = PROTOCOL_PARSERS["json"](operation, map_type=dict)
    request = {"method": "POST", "values": {}, "headers": {}, "url_path": "/", "url_params": {}}
    return parser.parse({**request, "body": json.dumps(body).encode()})


KEY = {"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#p1"}}
NUMBER_KEY = {"pk": {"S": "SHOP#1"}, "sk": {"N": "12.50"}}


def reads(*keys: dict, table: str = "shops", **options) -> dict:
    return {"RequestItems": {table: {"Keys": list(keys), **options}}}


@pytest.mark.parametrize(
    "body",
    [
        reads(KEY),
        reads(KEY, NUMBER_KEY, ConsistentRead=True),
        reads(
            KEY, ConsistentRead=False, ProjectionExpression="#t, pk", ExpressionAttributeNames={"#t": "title"}
        ),
        {**reads(KEY), "ReturnConsumedCapacity": "TOTAL"},
        {"RequestItems": {"a": {"Keys": [KEY]}, "b": {"Keys": [NUMBER_KEY], "ConsistentRead": True}}},
    ],
)
def test_a_plain_batch_get_is_taken_as_moto_parses_it(body):
    assert plain_batch_get(json.dumps(body).encode()) == motos_parse(body)


@pytest.mark.parametrize(
    "body",
    [
        reads({"pk": {"B": base64.b64encode(b"\x00").decode()}}),
        reads({"pk": {"S": None}}),
        reads(KEY, ConsistentRead="true"),
        reads(KEY, AttributesToGet=["title"]),
        reads(KEY, ExpressionAttributeNames={"#t": 1}),
        reads(KEY, Unknown=1),
        {**reads(KEY), "ReturnConsumedCapacity": None},
    ],
)
def test_anything_else_goes_to_motos_parser(body):
    assert plain_batch_get(json.dumps(body).encode()) is None
    motos_parse(body)  # which still answers


def test_what_is_not_a_batch_get_goes_to_motos_parser():
    assert plain_batch_get(b"\xff not json") is None
    assert plain_batch_get(json.dumps({"RequestItems": {"shops": {"Keys": "not a list"}}}).encode()) is None
