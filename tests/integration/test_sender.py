"""Replies go out through the Graph API within Meta's rules: retried when Meta says later, recorded
when Meta says never, refused outside the 24-hour window, and never sent twice."""

from __future__ import annotations

import json
import secrets
import time

import pytest

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.platform.config import load_settings

from .conftest import wait_for
from .whatsapp import FIXTURE_NUMBER, fresh_text, post_webhook, sign, stored

pytestmark = pytest.mark.integration


def new_customer_text(age_s: int = 0) -> tuple[bytes, str, str]:
    """A text from a customer nobody else in these tests writes as, sent ``age_s`` seconds ago."""
    customer = "1555" + str(secrets.randbelow(10**7)).zfill(7)
    document = json.loads(fresh_text()[0])
    value = document["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from"] = customer
    value["messages"][0]["timestamp"] = str(int(time.time()) - age_s)
    value["contacts"][0]["wa_id"] = customer
    return json.dumps(document).encode(), value["messages"][0]["id"], customer


def record_of(app_stack, message_id: str) -> dict | None:
    item = stored(app_stack, f"OUTBOUND#reply-{message_id}")
    return json.loads(item["record"]["S"]) if item else None


def settled(app_stack, message_id: str, status: str):
    return wait_for(
        lambda: (r := record_of(app_stack, message_id)) and r["status"] == status and r, timeout=30
    )


def test_a_throughput_limit_is_waited_out_and_the_reply_still_goes(app_stack, api, fixture_shop):
    raw, message_id, customer = new_customer_text()
    app_stack.graph.add_fault(FIXTURE_NUMBER, 130429, count=1, to=customer)
    assert post_webhook(api, raw, sign(raw)).status == 200
    record = settled(app_stack, message_id, "read")
    assert record["attempts"] == 2
    assert len(app_stack.graph.outbox(to=customer)) == 1


def test_a_permanent_error_is_recorded_and_not_retried(app_stack, api, fixture_shop):
    raw, message_id, customer = new_customer_text()
    app_stack.graph.add_fault(FIXTURE_NUMBER, 131026, count=1, to=customer)
    assert post_webhook(api, raw, sign(raw)).status == 200
    record = settled(app_stack, message_id, "failed")
    assert record["error_code"] == 131026
    assert record["attempts"] == 1
    assert app_stack.graph.outbox(to=customer) == []


def test_a_free_form_reply_outside_the_24_hour_window_is_refused_before_sending(app_stack, api, fixture_shop):
    raw, message_id, customer = new_customer_text(age_s=25 * 3600)
    assert post_webhook(api, raw, sign(raw)).status == 200
    record = settled(app_stack, message_id, "failed")
    assert "template" in record["error"]
    assert app_stack.graph.outbox(to=customer) == []


def test_a_send_job_delivered_twice_sends_once(app_stack, api, fixture_shop):
    raw, message_id, customer = new_customer_text()
    assert post_webhook(api, raw, sign(raw)).status == 200
    settled(app_stack, message_id, "read")
    # When the queue hands the same job over again (SQS delivers at least once)
    sqs = app_stack.clients.client("sqs")
    job = json.dumps({"outbound_id": f"reply-{message_id}", "attempt": 1})
    sqs.send_message(QueueUrl=app_stack.stack.physical_id("OutboundQueue"), MessageBody=job)
    time.sleep(1.5)
    # Then Meta still got the message once
    assert len(app_stack.graph.outbox(to=customer)) == 1


def test_one_message_per_six_seconds_to_a_user_is_waited_out(app_stack, api, fixture_shop):
    # Given Meta answers 131056 (pair rate limit) to the first send to this customer
    raw, message_id, customer = new_customer_text()
    app_stack.graph.add_fault(FIXTURE_NUMBER, 131056, count=1, to=customer)
    assert post_webhook(api, raw, sign(raw)).status == 200
    # Then the reply is retried after Meta's six seconds, and goes out once
    record = settled(app_stack, message_id, "read")
    assert record["attempts"] == 2
    assert len(app_stack.graph.outbox(to=customer)) == 1


def test_a_server_error_at_meta_is_retried(app_stack, api, fixture_shop):
    raw, message_id, customer = new_customer_text()
    app_stack.graph.add_fault(FIXTURE_NUMBER, 500, count=1, to=customer)
    assert post_webhook(api, raw, sign(raw)).status == 200
    record = settled(app_stack, message_id, "read")
    assert record["attempts"] == 2
    assert len(app_stack.graph.outbox(to=customer)) == 1


def test_a_number_gets_80_sends_a_second_shared_by_every_sender(shops_environ):
    # Given the shared per-second counter of one number, at one frozen second
    store = ConversationStore(load_settings())
    number, second = "1" + str(secrets.randbelow(10**12)), 1_900_000_000.5
    # When 81 sends ask for a slot in that second
    granted = [store.take_send_slot(number, 80, now=second) for _ in range(81)]
    # Then 80 get one, the 81st waits for the next second, which starts afresh
    assert granted.count(True) == 80 and granted[-1] is False
    assert store.take_send_slot(number, 80, now=second + 1)
