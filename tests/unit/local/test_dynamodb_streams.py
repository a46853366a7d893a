"""DynamoDB stream mappings run locally: Lambda's event shape, batching, filters, retries and giving up.

The stream is the AWS emulator's (a moto server on loopback: moto answers DynamoDB Streams calls only
when served); the function is a fake that records what it was given and answers as the test scripts it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from chatshop_local.dynamodb_streams import StreamMapping, StreamPoller, first_failed_record
from chatshop_local.emulator import free_port
from chatshop_local.event_filters import parse_pattern
from chatshop_local.functions import InvocationResult

REGION = "eu-west-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:changes"


class FakeFunction:
    """Records each event; ``answer`` decides the result from the records of the batch."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], InvocationResult] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self._answer = answer or (lambda records: ok(None))

    def __call__(self, function: str, event: dict[str, Any]) -> InvocationResult:
        assert function == "Changes"
        self.batches.append(event["Records"])
        return self._answer(event["Records"])

    def keys_of(self, batch: int) -> list[str]:
        return [record["dynamodb"]["Keys"]["sk"]["S"] for record in self.batches[batch]]


def ok(payload: Any) -> InvocationResult:
    return InvocationResult("request", payload, None, 1.0)


def crashed() -> InvocationResult:
    return InvocationResult("request", None, {"errorType": "RuntimeError", "errorMessage": "boom"}, 1.0)


def sequence(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


@pytest.fixture(scope="module")
def emulator():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(emulator):
    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=emulator)

    dynamodb = client("dynamodb")
    table_name = f"shops-{uuid.uuid4().hex[:8]}"
    table = dynamodb.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    sqs = client("sqs")
    yield {
        "dynamodb": dynamodb,
        "table": table_name,
        "streams": client("dynamodbstreams"),
        "sqs": sqs,
        "stream_arn": table["LatestStreamArn"],
        "failed_queue": sqs.create_queue(QueueName=f"{table_name}-failed")["QueueUrl"],
    }


def put(aws: dict[str, Any], sk: str, **attributes: Any) -> None:
    item = {"pk": {"S": "SHOP#1"}, "sk": {"S": sk}, **attributes}
    aws["dynamodb"].put_item(TableName=aws["table"], Item=item)


def poller(aws: dict[str, Any], function: FakeFunction, **options: Any) -> StreamPoller:
    settings: dict[str, Any] = {
        "function": "Changes",
        "function_arn": FUNCTION_ARN,
        "stream_arn": aws["stream_arn"],
        "starting_position": "TRIM_HORIZON",
        "batch_size": 10,
        "batching_window_s": 0,
        "report_batch_item_failures": True,
        **options,
    }
    return StreamPoller(
        StreamMapping(**settings), aws["streams"], aws["sqs"], function, REGION, retry_after_s=0
    )


def test_records_reach_the_function_in_order_shaped_as_lambda_delivers_them(aws):
    # Given an insert, a change and a removal
    put(aws, "PRODUCT#1", title={"S": "Shoe"}, blob={"B": b"\x00\x01"})
    put(aws, "PRODUCT#1", title={"S": "Boot"}, blob={"B": b"\x00\x01"})
    aws["dynamodb"].delete_item(TableName=aws["table"], Key={"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#1"}})
    function = FakeFunction()
    # When the stream is polled
    stream = poller(aws, function)
    stream.poll_once()
    # Then one event carries the three records, in order, as Lambda builds them
    (batch,) = function.batches
    assert [r["eventName"] for r in batch] == ["INSERT", "MODIFY", "REMOVE"]
    inserted, modified, removed = batch
    assert {k: inserted[k] for k in ("eventSource", "eventVersion", "awsRegion", "eventSourceARN")} == {
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "awsRegion": REGION,
        "eventSourceARN": aws["stream_arn"],
    }
    assert inserted["eventID"] and inserted["eventID"] != modified["eventID"]
    assert inserted["dynamodb"]["Keys"] == {"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#1"}}
    assert inserted["dynamodb"]["NewImage"]["title"] == {"S": "Shoe"}
    assert inserted["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}  # base64 text, as in Lambda's JSON
    assert "OldImage" not in inserted["dynamodb"]
    assert isinstance(inserted["dynamodb"]["ApproximateCreationDateTime"], int)
    assert inserted["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert modified["dynamodb"]["OldImage"]["title"] == {"S": "Shoe"}
    assert modified["dynamodb"]["NewImage"]["title"] == {"S": "Boot"}
    assert removed["dynamodb"]["OldImage"]["title"] == {"S": "Boot"} and "NewImage" not in removed["dynamodb"]
    assert int(sequence(inserted)) < int(sequence(modified)) < int(sequence(removed))
    # And once processed, nothing is delivered again
    assert stream.poll_once() == []
    assert len(function.batches) == 1


def test_latest_starts_after_what_was_written_before_the_mapping(aws):
    put(aws, "PRODUCT#old")
    function = FakeFunction()
    stream = poller(aws, function, starting_position="LATEST")
    put(aws, "PRODUCT#new")
    stream.poll_once()
    assert function.keys_of(0) == ["PRODUCT#new"]


def test_batches_hold_at_most_the_batch_size(aws):
    for n in range(5):
        put(aws, f"PRODUCT#{n}")
    function = FakeFunction()
    stream = poller(aws, function, batch_size=2)
    for _ in range(4):
        stream.poll_once()
    assert [len(batch) for batch in function.batches] == [2, 2, 1]
    assert [key for n in range(3) for key in function.keys_of(n)] == [f"PRODUCT#{n}" for n in range(5)]


def test_filter_criteria_let_only_matching_records_through(aws):
    put(aws, "PROFILE")
    put(aws, "PRODUCT#1")
    put(aws, "IMPORT#1")
    pattern = parse_pattern('{"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "PRODUCT#"}]}}}}')
    function = FakeFunction()
    poller(aws, function, filter_patterns=(pattern,)).poll_once()
    assert function.batches and function.keys_of(0) == ["PRODUCT#1"]


def test_a_reported_failure_is_retried_from_that_record_and_what_came_before_is_done(aws):
    for n in range(3):
        put(aws, f"PRODUCT#{n}")
    calls = []

    def fail_the_second_once(records: list[dict[str, Any]]) -> InvocationResult:
        calls.append(len(records))
        if len(calls) == 1:
            return ok({"batchItemFailures": [{"itemIdentifier": sequence(records[1])}]})
        return ok({"batchItemFailures": []})

    function = FakeFunction(fail_the_second_once)
    stream = poller(aws, function)
    (first,) = stream.poll_once()
    (second,) = stream.poll_once()
    assert (first.done, first.retrying) == (1, 2)
    assert function.keys_of(1) == ["PRODUCT#1", "PRODUCT#2"]
    assert (second.done, second.retrying) == (2, 0)
    assert stream.poll_once() == []


def test_without_report_batch_item_failures_a_reported_failure_is_ignored(aws):
    put(aws, "PRODUCT#1")
    function = FakeFunction(
        lambda records: ok({"batchItemFailures": [{"itemIdentifier": sequence(records[0])}]})
    )
    stream = poller(aws, function, report_batch_item_failures=False)
    (outcome,) = stream.poll_once()
    assert outcome.done == 1 and stream.poll_once() == []


def test_records_that_keep_failing_are_given_up_and_noted_on_the_on_failure_queue(aws):
    # Given a function that always fails, and a mapping that retries twice
    put(aws, "PRODUCT#1")
    put(aws, "PRODUCT#2")
    function = FakeFunction(lambda records: crashed())
    stream = poller(aws, function, maximum_retry_attempts=2, on_failure_queue_url=aws["failed_queue"])
    # When it is polled past its retries
    outcomes = [outcome for _ in range(3) for outcome in stream.poll_once()]
    # Then the first try and two retries happened, and then the records were given up
    assert [o.given_up for o in outcomes] == [0, 0, 2]
    messages = aws["sqs"].receive_message(QueueUrl=aws["failed_queue"], MaxNumberOfMessages=10)["Messages"]
    (notice,) = [json.loads(m["Body"]) for m in messages]
    first, last = function.batches[0]
    assert notice["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert notice["requestContext"]["functionArn"] == FUNCTION_ARN
    assert notice["DDBStreamBatchInfo"] == {
        **notice["DDBStreamBatchInfo"],
        "startSequenceNumber": sequence(first),
        "endSequenceNumber": sequence(last),
        "batchSize": 2,
        "streamArn": aws["stream_arn"],
    }
    # And the shard moves on to what comes next
    put(aws, "PRODUCT#3")
    stream.poll_once()
    assert function.keys_of(-1) == ["PRODUCT#3"]


def test_bisecting_isolates_the_record_that_fails_the_batch(aws):
    for n in range(4):
        put(aws, f"PRODUCT#{n}")

    def poisoned(records: list[dict[str, Any]]) -> InvocationResult:
        keys = [r["dynamodb"]["Keys"]["sk"]["S"] for r in records]
        return crashed() if "PRODUCT#3" in keys else ok(None)

    function = FakeFunction(poisoned)
    stream = poller(
        aws,
        function,
        bisect_on_error=True,
        maximum_retry_attempts=3,
        on_failure_queue_url=aws["failed_queue"],
    )
    given_up = [outcome.given_up for _ in range(8) for outcome in stream.poll_once()]
    # Then each failure halves the batch, until the poisoned record alone is given up
    assert [function.keys_of(n) for n in range(len(function.batches))] == [
        ["PRODUCT#0", "PRODUCT#1", "PRODUCT#2", "PRODUCT#3"],
        ["PRODUCT#0", "PRODUCT#1"],
        ["PRODUCT#2", "PRODUCT#3"],
        ["PRODUCT#2"],
        ["PRODUCT#3"],
        ["PRODUCT#3"],
    ]
    assert given_up[-1] == 1


@pytest.mark.parametrize(
    "result, expected",
    [
        (crashed(), 0),
        (ok(None), None),
        (ok({"batchItemFailures": []}), None),
        (ok({"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]}), 1),
        (ok({"batchItemFailures": [{"itemIdentifier": ""}]}), 0),
        (ok({"batchItemFailures": [{"itemIdentifier": "99"}]}), 0),
        (ok({"batchItemFailures": "all"}), 0),
    ],
    ids=["error", "no-answer", "none-failed", "earliest-reported", "empty-id", "unknown-id", "malformed"],
)
def test_where_a_batch_resumes(result, expected):
    batch = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (1, 2, 3)]
    assert first_failed_record(result, batch, report=True) == expected
