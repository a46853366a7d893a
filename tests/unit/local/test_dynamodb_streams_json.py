"""GetRecords read as its JSON builds the very records botocore's parse of the same answer gives.

Both emulators answer: moto's own server (its serializer) and the one `chatshop dev` runs (its
direct JSON). The answer's bytes are kept as they came; botocore's parser then reads them as it
would have, and the records built from each side must be equal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from moto.server import ThreadedMotoServer

from chatshop_local.dynamodb_streams import (
    get_records_json,
    lambda_stream_record,
    lambda_stream_record_from_json,
    read_json_answers,
)
from chatshop_local.emulator import MotoServer, free_port

REGION = "us-east-1"

# Every kind of attribute value, nested too, binary ones (base64 on the wire) included.
ITEM = {
    "pk": {"S": "SHOP#1"},
    "s": {"S": "Tasse « café » 漢字 \u2028"},
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\x01\xfe\xff"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x00", b"\xff\xfe"]},
    "m": {"M": {"inner": {"M": {"b": {"B": b"\x10"}, "l": {"L": [{"N": "1"}, {"NULL": True}]}}}}},
    "l": {"L": [{"S": "x"}, {"BOOL": False}, {"B": b"\x7f"}, {"M": {}}]},
    "null": {"NULL": True},
    "bool": {"BOOL": True},
}


@pytest.fixture(scope="module", params=["moto server", "chatshop emulator"])
def endpoint(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "moto server":
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()
    else:
        emulator = MotoServer(free_port(), log_path=tmp_path_factory.mktemp("emulator") / "log")
        emulator.start()
        yield emulator.url
        emulator.stop()


@pytest.fixture
def stream(endpoint) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    table = f"t-{uuid.uuid4().hex[:8]}"
    arn = dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    # An insert, a change, a removal: images new, old and both.
    dynamodb.put_item(TableName=table, Item=ITEM)
    dynamodb.put_item(TableName=table, Item={**ITEM, "s": {"S": "changed"}, "b": {"B": b""}})
    dynamodb.delete_item(TableName=table, Key={"pk": ITEM["pk"]})
    streams = boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=endpoint)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return {"streams": streams, "arn": arn, "iterator": iterator["ShardIterator"]}


def answer_bytes(client: Any) -> list[dict[str, Any]]:
    """Keeps each GetRecords answer of ``client`` as it came over the wire."""
    kept: list[dict[str, Any]] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        kept.append({**response_dict, "body": bytes(response_dict["body"])})

    # Registered first, so it sees the answer before the JSON reader empties the body.
    client.meta.events.register_first("before-parse.dynamodb-streams.GetRecords", keep)
    return kept


def test_the_records_read_as_json_are_the_records_of_botocores_parse(stream):
    # Given a stream holding an insert, a change and a removal of an item of every attribute type
    client, arn = stream["streams"], stream["arn"]
    kept = answer_bytes(client)
    read_json_answers(client)

    # When GetRecords is read as JSON
    answer = get_records_json(client, stream["iterator"], 1000)
    from_json = [lambda_stream_record_from_json(r, arn, REGION) for r in answer["Records"]]

    # Then botocore's parse of the very same answer builds the same records, and the same iterator
    (wire,) = kept
    output = client.meta.service_model.operation_model("GetRecords").output_shape
    parsed = create_parser("json").parse(wire, output)
    assert [r["eventName"] for r in from_json] == ["INSERT", "MODIFY", "REMOVE"]
    assert from_json == [lambda_stream_record(r, arn, REGION) for r in parsed["Records"]]
    assert answer["NextShardIterator"] == parsed["NextShardIterator"]
    assert from_json[0]["dynamodb"]["NewImage"]["b"] == {"B": "AAH+/w=="}
    assert isinstance(from_json[0]["dynamodb"]["ApproximateCreationDateTime"], int)
    assert json.loads(json.dumps(from_json)) == from_json  # Lambda's event is plain JSON


def test_other_calls_and_plain_get_records_are_still_parsed_by_botocore(stream):
    client = stream["streams"]
    read_json_answers(client)

    # A GetRecords called as usual still has botocore's records (binary values as bytes)
    parsed = client.get_records(ShardIterator=stream["iterator"], Limit=1000)
    assert parsed["Records"][0]["dynamodb"]["NewImage"]["b"] == {"B": b"\x00\x01\xfe\xff"}
    assert client.describe_stream(StreamArn=stream["arn"])["StreamDescription"]["Shards"]

    # And an error answer is left to botocore, which raises it as ever
    with pytest.raises(ClientError):
        get_records_json(client, "not-an-iterator", 1000)
