"""Meta's webhooks in: signed, archived, split onto the inbound FIFO queue, answered."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from chatshop_local.whatsapp_secrets import LOCAL_APP_SECRET, LOCAL_VERIFY_TOKEN

from .conftest import open_shop

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "whatsapp"
FIXTURE_NUMBER = "1122334455667"


def sign(body: bytes, secret: str = LOCAL_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(api, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return api.post("/webhooks/whatsapp", raw=body, headers=headers)


@pytest.fixture(scope="module")
def fixture_shop(api_module):
    """A shop connected to the phone number the fixture files were sent to."""
    from .conftest import sign_up

    merchant = sign_up(api_module)
    shop = open_shop(merchant)
    reply = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": FIXTURE_NUMBER,
            "waba_id": "102290129340398",
            "display_phone_number": "+1 555 123 4567",
            "access_token": "EAAG-fixture-token-0123456789",
        },
    )
    assert reply.status in (200, 409), reply.raw
    return shop


@pytest.fixture(scope="module")
def api_module(app_stack):
    from .conftest import Api

    return Api(app_stack.gateway.url)


def drain(app_stack) -> list[dict]:
    """Everything on the inbound queue now (the test consumes it instead of the worker)."""
    sqs = app_stack.clients.client("sqs")
    url = app_stack.stack.physical_id("InboundQueue")
    found = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append({"body": json.loads(message["Body"]), "attributes": message["Attributes"]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


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


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_every_fixture_is_accepted_and_queued(app_stack, api_module, fixture_shop, path):
    # Given one of Meta's webhook bodies, signed over its exact bytes
    raw = path.read_bytes()
    drain(app_stack)
    # When Meta posts it
    reply = post_webhook(api_module, raw, sign(raw))
    # Then it is answered 200 and its units are on the inbound queue, for the shop of the number
    assert reply.status == 200, reply.raw
    queued = drain(app_stack)
    assert queued, "nothing was queued"
    assert {q["body"]["shop_id"] for q in queued} == {fixture_shop["id"]}
    assert all(q["attributes"]["MessageGroupId"].startswith(FIXTURE_NUMBER) for q in queued)


def test_the_raw_body_is_archived_as_received(app_stack, api_module, fixture_shop):
    raw = (FIXTURES / "pywa__text.json").read_bytes()
    post_webhook(api_module, raw, sign(raw))
    s3 = app_stack.clients.client("s3")
    bucket = app_stack.stack.physical_id("MediaBucket")
    key = next(
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix="webhooks/whatsapp/")["Contents"]
        if o["Key"].endswith(hashlib.sha256(raw).hexdigest() + ".json")
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == raw
    drain(app_stack)


def test_a_duplicate_delivery_is_absorbed_by_the_queue(app_stack, api_module, fixture_shop):
    raw = (FIXTURES / "pywa__text.json").read_bytes()
    drain(app_stack)
    for _ in range(3):
        assert post_webhook(api_module, raw, sign(raw)).status == 200
    assert len(drain(app_stack)) == 1


@pytest.mark.parametrize(
    "tamper",
    ["flipped byte", "wrong secret", "missing header", "malformed header"],
)
def test_a_bad_signature_is_401_and_nothing_is_queued(app_stack, api_module, fixture_shop, tamper):
    raw = (FIXTURES / "pywa__text.json").read_bytes()
    drain(app_stack)
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
    reply = post_webhook(api_module, body, signature)
    assert reply.status == 401
    assert drain(app_stack) == []


def test_a_body_with_raw_utf8_text_verifies_over_its_exact_bytes(app_stack, api_module, fixture_shop):
    document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
    document["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Olá! ¿Tienen tallas? 👟"
    document["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.utf8-raw-text"
    raw = json.dumps(document, ensure_ascii=False).encode()
    drain(app_stack)
    assert post_webhook(api_module, raw, sign(raw)).status == 200
    assert [q["body"]["message"]["text"]["body"] for q in drain(app_stack)] == ["Olá! ¿Tienen tallas? 👟"]


def test_an_unknown_number_is_answered_and_archived_but_not_queued(app_stack, api_module):
    document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999000999000"
    raw = json.dumps(document).encode()
    drain(app_stack)
    assert post_webhook(api_module, raw, sign(raw)).status == 200
    assert drain(app_stack) == []


def test_a_body_over_3_mb_is_413(api_module):
    raw = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    assert post_webhook(api_module, raw, sign(raw)).status == 413
