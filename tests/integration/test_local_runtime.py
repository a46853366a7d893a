"""The local runtime against the embedded AWS, driven by a test template of every trigger kind."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from chatshop_local.emulator import free_port
from chatshop_local.stack import LocalStack, StackOptions

from .conftest import wait_for

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).parent / "runtime_stack" / "template.yaml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    local = LocalStack(
        StackOptions(
            template_path=TEMPLATE,
            state_dir=tmp_path_factory.mktemp("state"),
            api_port=free_port(),
            aws_port=free_port(),
            seed=False,
        )
    )
    local.start()
    # Schedules are driven by hand through clock.tick: stop the real-time loop so it cannot race them.
    local.clock.stop()
    local.clock.join()
    yield local
    local.stop(save=False)


def results_table(stack: LocalStack):
    return stack.clients.client("dynamodb"), stack.stack.physical_id("ResultsTable")


def result(stack: LocalStack, item_id: str) -> dict | None:
    dynamodb, table = results_table(stack)
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    return {k: int(v["N"]) if "N" in v else next(iter(v.values())) for k, v in item.items()}


def queue_url(stack: LocalStack, logical_id: str) -> str:
    return stack.stack.physical_id(logical_id)


def http(stack: LocalStack, method: str, path: str, body: bytes | None = None, headers=None):
    request = urllib.request.Request(
        stack.gateway.url + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read(), error.headers


def test_environment_variables_are_resolved_from_the_deployed_stack(stack):
    # Given the Echo function's template sets RESULTS_TABLE to !Ref ResultsTable
    # When it is called through the gateway
    status, _, body, _ = http(stack, "GET", "/echo/someone")
    # Then it saw the physical table name the emulator's CloudFormation gave the table
    assert status == 200
    assert json.loads(body)["table"] == stack.stack.physical_id("ResultsTable")
    assert json.loads(body)["function"] == stack.stack.functions["Echo"].name


def test_gateway_passes_path_query_and_multi_value_headers(stack):
    status, _, body, raw_headers = http(stack, "POST", "/echo/caf%C3%A9?tag=a&tag=b", body=b'{"x": 1}')
    payload = json.loads(body)
    assert status == 200
    assert payload["name"] == "café"
    assert payload["method"] == "POST"
    assert payload["query"] == {"tag": ["a", "b"]}
    assert payload["body"] == '{"x": 1}' and payload["base64"] is False
    assert raw_headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_function_that_raises_gives_500_with_correlation_id_and_no_traceback(stack, caplog):
    status, headers, body, _ = http(stack, "GET", "/boom")
    error = json.loads(body)["error"]
    assert status == 500
    assert error["code"] == "internal_error"
    assert error["correlation_id"]
    assert "Traceback" not in body.decode() and "boom" not in error["message"]
    assert "this traceback must stay in the log" in caplog.text


def test_a_function_past_its_timeout_is_504_and_its_late_answer_discarded(stack):
    status, _, body, _ = http(stack, "GET", "/slow")
    assert status == 504
    assert json.loads(body)["error"]["code"] == "endpoint_timeout"


def test_unknown_route_is_404_and_wrong_method_is_405(stack):
    status, _, body, _ = http(stack, "GET", "/nowhere")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, headers, body, _ = http(stack, "POST", "/boom")
    assert status == 405 and json.loads(body)["error"]["code"] == "method_not_allowed"
    assert "GET" in headers.get("Allow", "")


def test_body_over_api_gateway_limit_is_413(stack):
    status, _, body, _ = http(stack, "POST", "/echo/big", body=b"x" * (10 * 1024 * 1024 + 1))
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"


def test_partial_batch_failure_redelivers_only_the_failed_message(stack):
    # Given a batch of two good messages and one that fails on its first delivery
    sqs = stack.clients.client("sqs")
    bodies = ["ok-a-1", "fail-once-1", "ok-b-1"]
    sqs.send_message_batch(
        QueueUrl=queue_url(stack, "WorkQueue"),
        Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)],
    )
    # When the poller delivers them and the visibility timeout passes
    wait_for(lambda: (result(stack, "fail-once-1") or {}).get("attempts") == 2)
    # Then the failed message came back once and the good ones were never redelivered
    time.sleep(1.5)  # longer than the queue's visibility timeout: a wrongly kept message would be back
    assert result(stack, "ok-a-1")["attempts"] == 1
    assert result(stack, "ok-b-1")["attempts"] == 1
    assert result(stack, "fail-once-1")["attempts"] == 2


def test_poison_message_ends_in_the_dead_letter_queue(stack):
    sqs = stack.clients.client("sqs")
    sqs.send_message(QueueUrl=queue_url(stack, "WorkQueue"), MessageBody="poison-1")

    def dead_lettered():
        return sqs.receive_message(
            QueueUrl=queue_url(stack, "WorkDeadLetterQueue"), WaitTimeSeconds=1, MaxNumberOfMessages=10
        ).get("Messages")

    messages = wait_for(dead_lettered, timeout=20)
    assert [m["Body"] for m in messages] == ["poison-1"]
    # maxReceiveCount is 2: two deliveries, then the dead-letter queue
    assert result(stack, "poison-1")["attempts"] == 2


def test_schedule_fires_the_function_with_a_scheduled_event(stack):
    # Given the clock of a stack whose Ticker runs at rate(1 minute)
    clock = stack.clock
    due = clock.next_due()
    assert due is not None
    # When a minute has passed
    fired = clock.tick(due + timedelta(seconds=1))
    # Then the Ticker ran with EventBridge's scheduled event, and the next firing is a minute later
    assert [(m.function, r.ok) for m, r in fired] == [("Ticker", True)]
    tick = result(stack, "tick")
    assert tick["source"] == "aws.events" and tick["detail_type"] == "Scheduled Event"
    assert clock.next_due() - due == timedelta(minutes=1)


def test_object_created_in_bucket_reaches_its_function(stack):
    s3 = stack.clients.client("s3")
    bucket = stack.stack.physical_id("DropBucket")
    s3.put_object(Bucket=bucket, Key="incoming/photo 1.jpg", Body=b"\xff\xd8\xff")
    s3.put_object(Bucket=bucket, Key="elsewhere/ignored.jpg", Body=b"\xff\xd8\xff")
    seen = wait_for(lambda: result(stack, "object:incoming/photo 1.jpg"))
    assert seen["event_name"].startswith("ObjectCreated:")
    time.sleep(1)
    assert result(stack, "object:elsewhere/ignored.jpg") is None  # filtered out by the prefix rule


def test_invoke_runs_any_function_once(stack):
    outcome = stack.invoke("Ticker", {"source": "manual", "detail-type": "Manual"})
    assert outcome.ok
    assert result(stack, "tick")["source"] == "manual"
