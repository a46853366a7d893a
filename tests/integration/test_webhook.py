"""Meta's webhooks in, end to end: signed, archived, queued, stored once, answered once."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from pathlib import Path

import pytest

from chatshop_local.graph_emulator import image_message
from chatshop_local.whatsapp_secrets import LOCAL_VERIFY_TOKEN

from .conftest import wait_for
from .whatsapp import FIXTURE_NUMBER, FIXTURES, fresh_text, post_webhook, replies_to, said, sign, stored

pytestmark = pytest.mark.integration


def thread_items(app_stack, customer: str, message_id: str) -> list[dict]:
    dynamodb = app_stack.clients.client("dynamodb")
    items = dynamodb.query(
        TableName=app_stack.stack.physical_id("MessagingTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{FIXTURE_NUMBER}#{customer}"}},
    )["Items"]
    # What the customer sent; the reply to it, in the same thread, is written under its own id.
    return [item for item in items if item["sk"]["S"].endswith(message_id) and item["direction"]["S"] == "in"]


def queue_is_settled(app_stack, logical_id: str) -> bool:
    attributes = app_stack.clients.client("sqs").get_queue_attributes(
        QueueUrl=app_stack.stack.physical_id(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"] == "0"
        and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def fixture_files() -> list[Path]:
    files = sorted(FIXTURES.glob("*.json"))
    assert files, f"no webhook fixtures in {FIXTURES}"
    return files


def test_handshake_answers_the_challenge_as_plain_text(api):
    reply = api.get(
        f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={LOCAL_VERIFY_TOKEN}&hub.challenge=1158201444"
    )
    assert reply.status == 200
    assert reply.raw == b"1158201444"
    assert reply.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=x",
        "",
    ],
)
def test_a_wrong_handshake_is_403(api, query):
    assert api.get(f"/webhooks/whatsapp?{query}").status == 403


def test_every_fixture_is_processed_without_error(app_stack, api, fixture_shop):
    # When each of Meta's webhook bodies is posted, signed over its exact bytes
    for path in fixture_files():
        raw = path.read_bytes()
        assert post_webhook(api, raw, sign(raw)).status == 200, path.name
    # Then the inbound worker takes every unit, none is left failing or dead-lettered
    wait_for(lambda: queue_is_settled(app_stack, "InboundQueue"), timeout=30)
    assert queue_is_settled(app_stack, "InboundDeadLetterQueue")
    # And every message of the fixtures is stored
    for path in fixture_files():
        for entry in json.loads(path.read_bytes())["entry"]:
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    assert stored(app_stack, f"INBOUND#{message['id']}"), (path.name, message["id"])


def test_a_message_is_stored_and_answered_through_the_graph_api(app_stack, api, fixture_shop):
    raw, message_id, customer = fresh_text()
    assert post_webhook(api, raw, sign(raw)).status == 200
    replies = wait_for(lambda: replies_to(app_stack, message_id))
    assert replies[0]["to"] == customer
    # The assistant's welcome (or, to a customer it welcomed minutes ago, its short greeting)
    assert said(replies[0]["body"]).startswith(("Welcome to", "Hi Test Name, welcome to", "Hi again"))
    # Meta's status webhooks come back signed and move our record to read, never backwards
    record = wait_for(
        lambda: (
            (item := stored(app_stack, f"OUTBOUND#reply-{message_id}"))
            and json.loads(item["record"]["S"])["status"] == "read"
            and item
        )
    )
    assert json.loads(record["record"]["S"])["wamid"] == replies[0]["id"]


def test_the_same_webhook_three_times_gives_one_message_and_one_reply(app_stack, api, fixture_shop):
    raw, message_id, customer = fresh_text("Is the tee still in stock?")
    for _ in range(3):
        assert post_webhook(api, raw, sign(raw)).status == 200
    wait_for(lambda: replies_to(app_stack, message_id))
    wait_for(
        lambda: queue_is_settled(app_stack, "InboundQueue") and queue_is_settled(app_stack, "OutboundQueue")
    )
    assert len(thread_items(app_stack, customer, message_id)) == 1
    assert len(replies_to(app_stack, message_id)) == 1


def test_the_raw_body_is_archived_as_received(app_stack, api, fixture_shop):
    raw, _, _ = fresh_text()
    post_webhook(api, raw, sign(raw))
    s3 = app_stack.clients.client("s3")
    bucket = app_stack.stack.physical_id("MediaBucket")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="webhooks/whatsapp/")["Contents"]]
    key = next(k for k in keys if k.endswith(hashlib.sha256(raw).hexdigest() + ".json"))
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == raw


@pytest.mark.parametrize("tamper", ["flipped byte", "wrong secret", "missing header", "malformed header"])
def test_a_bad_signature_is_401_and_nothing_is_stored(app_stack, api, fixture_shop, tamper):
    raw, message_id, _ = fresh_text()
    body, signature = raw, sign(raw)
    if tamper == "flipped byte":
        index = raw.index(b'"body"')
        body = raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :]
    elif tamper == "wrong secret":
        signature = sign(raw, "not-the-app-secret")
    elif tamper == "missing header":
        signature = None
    else:
        signature = "sha1=" + signature.removeprefix("sha256=")
    assert post_webhook(api, body, signature).status == 401
    time.sleep(0.5)
    assert stored(app_stack, f"INBOUND#{message_id}") is None


def test_a_body_with_raw_utf8_text_verifies_over_its_exact_bytes(app_stack, api, fixture_shop):
    raw, message_id, _ = fresh_text("Olá! ¿Tienen tallas? 👟")
    assert b"\\u" not in raw  # real UTF-8 bytes, not escapes
    assert post_webhook(api, raw, sign(raw)).status == 200
    wait_for(lambda: stored(app_stack, f"INBOUND#{message_id}"))


def test_an_unknown_number_is_answered_but_neither_archived_nor_stored(app_stack, api):
    # A number no shop of this region serves: its customers' data is not this region's to keep
    document = json.loads(fresh_text()[0])
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999000999000"
    message_id = document["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    raw = json.dumps(document).encode()
    assert post_webhook(api, raw, sign(raw)).status == 200
    time.sleep(0.5)
    assert stored(app_stack, f"INBOUND#{message_id}") is None
    s3 = app_stack.clients.client("s3")
    bucket = app_stack.stack.physical_id("MediaBucket")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="webhooks/").get("Contents", [])]
    assert not any(key.endswith(hashlib.sha256(raw).hexdigest() + ".json") for key in keys)


def test_a_body_over_3_mb_is_413(api):
    raw = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    assert post_webhook(api, raw, sign(raw)).status == 413


def test_functions_call_the_local_graph_api_never_meta(app_stack):
    url = app_stack.functions["SenderFunction"].environment["CHATSHOP_GRAPH_API_URL"]
    assert url == f"{app_stack.graph.url}/v21.0"
    assert url.startswith("http://127.0.0.1:")


def test_a_customers_photo_is_fetched_from_meta_and_kept(app_stack, fixture_shop):
    # Given a photo the customer sent: Meta holds it under a media id
    png = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)
    media_id = app_stack.graph.store_media(FIXTURE_NUMBER, png, "image/png")
    # When its webhook arrives
    app_stack.graph.send_customer_message(
        FIXTURE_NUMBER, "15550001111", "Ana", image_message(media_id, "this one?")
    )
    # Then the worker downloads it while Meta's URL lives and keeps it in the media bucket
    s3 = app_stack.clients.client("s3")
    bucket = app_stack.stack.physical_id("MediaBucket")
    key = f"whatsapp-media/{FIXTURE_NUMBER}/{media_id}"
    wait_for(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))
    kept = s3.get_object(Bucket=bucket, Key=key)
    assert kept["Body"].read() == png
    assert kept["ContentType"] == "image/png"
