"""The inbound worker when things go wrong: a crash half way through a batch, a unit that breaks."""

from __future__ import annotations

import json
import uuid

import pytest

from chatshop.messaging.webhook import split_webhook
from chatshop_local.sqs_poller import lambda_record

from .conftest import wait_for
from .whatsapp import FIXTURE_NUMBER, fresh_text, replies_to, stored

pytestmark = pytest.mark.integration


def queued_units(shop_id: str, count: int) -> list[tuple[str, dict]]:
    """Webhook units of one conversation as the webhook function queues them: (message id, SQS
    message)."""
    units = []
    customer = None
    for _ in range(count):
        raw, message_id, sender = fresh_text()
        customer = customer or sender
        raw = raw.replace(sender.encode(), customer.encode())
        (unit,) = split_webhook(raw)
        body = {**unit.body, "shop_id": shop_id, "archived_key": "test"}
        message = {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": "test",
            "Body": json.dumps(body),
            "Attributes": {"MessageGroupId": unit.group_id, "MessageDeduplicationId": unit.dedup_id},
        }
        units.append((message_id, message))
    return units


def batch_event(messages: list[dict]) -> dict:
    return {
        "Records": [
            lambda_record(m, "arn:aws:sqs:us-east-1:123456789012:inbound.fifo", "us-east-1") for m in messages
        ]
    }


def test_a_batch_handled_again_after_a_crash_doubles_nothing(app_stack, fixture_shop):
    # Given a batch of three units the worker handled, then "crashed" before the queue was told
    units = queued_units(fixture_shop["id"], 3)
    event = batch_event([message for _, message in units])
    assert app_stack.invoke("InboundFunction", event).payload == {"batchItemFailures": []}
    # When the queue hands the whole batch over again
    assert app_stack.invoke("InboundFunction", event).payload == {"batchItemFailures": []}
    # Then each message is stored once and acknowledged once
    for message_id, _ in units:
        assert stored(app_stack, f"INBOUND#{message_id}")
        wait_for(lambda message_id=message_id: replies_to(app_stack, message_id))
    wait_for(lambda: all(len(replies_to(app_stack, message_id)) == 1 for message_id, _ in units))


def test_a_unit_that_breaks_fails_alone_with_the_rest_of_its_conversation(app_stack, fixture_shop):
    # Given a batch of one conversation whose second unit cannot be read at all
    units = queued_units(fixture_shop["id"], 3)
    messages = [message for _, message in units]
    broken = {**messages[1], "Body": "{not json"}
    # When the worker handles it
    result = app_stack.invoke("InboundFunction", batch_event([messages[0], broken, messages[2]]))
    # Then the broken unit and the one after it in its conversation come back, in order; the first is done
    failed = [item["itemIdentifier"] for item in result.payload["batchItemFailures"]]
    assert failed == [broken["MessageId"], messages[2]["MessageId"]]
    assert stored(app_stack, f"INBOUND#{units[0][0]}")
    assert stored(app_stack, f"INBOUND#{units[2][0]}") is None
    # And nothing was lost: handed over again without the broken one, the last is stored
    app_stack.invoke("InboundFunction", batch_event([messages[2]]))
    assert stored(app_stack, f"INBOUND#{units[2][0]}")
    assert FIXTURE_NUMBER in messages[2]["Attributes"]["MessageGroupId"]
