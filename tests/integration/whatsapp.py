"""WhatsApp helpers for integration tests: Meta's fixture bodies, signing, what got stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from chatshop_local.whatsapp_secrets import LOCAL_APP_SECRET
from tests.conftest import WHATSAPP_FIXTURES

from .conftest import Api

FIXTURES = WHATSAPP_FIXTURES
FIXTURE_NUMBER = "1122334455667"


def sign(body: bytes, secret: str = LOCAL_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(api: Api, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return api.post("/webhooks/whatsapp", raw=body, headers=headers)


def fresh_text(body: str = "Hi") -> tuple[bytes, str, str]:
    """The text fixture as a new message sent just now by a customer of its own (so what one test
    says to the assistant, a request for a person say, never changes another test's conversation):
    its bytes, message id and customer."""
    document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
    value = document["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    customer = "1555" + str(secrets.randbelow(10**7)).zfill(7)
    message["from"] = customer
    value["contacts"][0]["wa_id"] = customer
    message["id"] = f"wamid.test-{secrets.token_hex(8)}"
    message["timestamp"] = str(int(time.time()))
    message["text"]["body"] = body
    return json.dumps(document, ensure_ascii=False).encode(), message["id"], message["from"]


def stored(app_stack, key: str) -> dict | None:
    dynamodb = app_stack.clients.client("dynamodb")
    table = app_stack.stack.physical_id("MessagingTable")
    return dynamodb.get_item(TableName=table, Key={"pk": {"S": key}, "sk": {"S": "MSG"}}).get("Item")


def said(body: dict) -> str:
    """What a sent message says: a text's body, or an interactive message's body text."""
    if body.get("type") == "text":
        return body["text"]["body"]
    return body.get("interactive", {}).get("body", {}).get("text", "")


def replies_to(app_stack, message_id: str) -> list[dict]:
    return [
        m
        for m in app_stack.graph.outbox()
        if (m.get("body") or {}).get("context", {}).get("message_id") == message_id
    ]
