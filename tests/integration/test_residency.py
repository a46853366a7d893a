"""Residency across several regions' stacks with one Meta between them (``chatshop_local.region_stacks``).

A Brazilian shop's number connected in sa-east-1 has its business account's webhooks posted there by
Meta directly (the override set on connect); a webhook that still reaches the US (posted before the
override, or of a field Meta never overrides) is relayed, unchanged, and nothing of it is kept in
the US. A Brazilian customer who chats and stops promotions, and a German user who consents to
personalised ads and asks for ads in eu-west-1, leave no trace in any table or bucket of us-east-1.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pytest

from chatshop_local.emulator import free_port
from chatshop_local.region_stacks import RegionStacks, start_regions, webhook_url
from chatshop_local.stack import LocalStack

from .conftest import REPO_ROOT, Api, sign_up, wait_for
from .test_whatsapp_channel import channel_request, new_number
from .whatsapp import fresh_text, post_webhook, sign

pytestmark = pytest.mark.integration

REGIONS = ("us-east-1", "sa-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def invoked() -> dict[str, list[str]]:
    """The functions each region ran, in order."""
    return {region: [] for region in REGIONS}


@pytest.fixture(scope="module")
def regions(tmp_path_factory, invoked) -> Iterator[RegionStacks]:
    """us-east-1 (the Meta app's callback URL), sa-east-1 and eu-west-1, one Meta between them; and
    ap-south-1 listed as a peer but down: its webhooks must come again, not be dropped."""
    started = start_regions(
        REPO_ROOT / "template.yaml",
        tmp_path_factory.mktemp("regions"),
        REGIONS,
        app_region="us-east-1",
        unreachable={"ap-south-1": webhook_url(free_port())},
        observer=lambda region: lambda invocation: invoked[region].append(invocation.function),
    )
    yield started
    started.stop()


def _brazilian_number(brazil: LocalStack, waba_id: str | None = None) -> str:
    merchant = sign_up(Api(brazil.gateway.url))
    reply = merchant.post(
        "/shops", {"name": "Loja", "country": "BR", "currency": "BRL", "timezone": "America/Sao_Paulo"}
    )
    assert reply.status == 201, reply.raw
    number = new_number()
    # Its own business account: the override is per account, and other tests' accounts are elsewhere
    body = channel_request(number, waba_id=waba_id or new_number())
    connect = merchant.request("PUT", f"/shops/{reply.json['id']}/channels/whatsapp", body)
    assert connect.status == 200, connect.raw
    return number


def _about(number: str, customer_text: str = "Oi") -> tuple[bytes, str, str]:
    raw, message_id, customer = fresh_text(customer_text)
    document = json.loads(raw)
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    return json.dumps(document, ensure_ascii=False).encode(), message_id, customer


def _everything_in(stack: LocalStack) -> str:
    """Every item of every table and every object of every bucket of a stack, as one text."""
    dynamodb, s3 = stack.clients.client("dynamodb"), stack.clients.client("s3")
    seen = []
    for table in stack.stack.of_type("AWS::DynamoDB::Table"):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table.physical_id):
            seen.append(json.dumps(page["Items"]))
    for bucket in stack.stack.of_type("AWS::S3::Bucket"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.physical_id):
            for entry in page.get("Contents", []):
                seen.append(entry["Key"])
                seen.append(
                    s3.get_object(Bucket=bucket.physical_id, Key=entry["Key"])["Body"]
                    .read()
                    .decode("utf-8", "replace")
                )
    return "\n".join(seen)


def test_a_webhook_that_reaches_the_wrong_region_is_relayed_home_and_not_kept(regions):
    us, brazil = regions["us-east-1"], regions["sa-east-1"]
    number = _brazilian_number(brazil)
    raw, message_id, customer = _about(number)

    # When Meta posts it to the US region
    reply = post_webhook(Api(us.gateway.url), raw, sign(raw))

    # Then it is answered, handled in sa-east-1 as if Meta had posted it there, and the US has no trace
    assert reply.status == 200, reply.raw
    brazil_table = brazil.stack.physical_id("MessagingTable")
    wait_for(
        lambda: (
            brazil.clients.client("dynamodb")
            .get_item(TableName=brazil_table, Key={"pk": {"S": f"INBOUND#{message_id}"}, "sk": {"S": "MSG"}})
            .get("Item")
        )
    )
    time.sleep(0.5)
    kept_in_us = _everything_in(us)
    assert customer not in kept_in_us
    assert message_id not in kept_in_us


def test_a_webhook_whose_region_cannot_be_reached_is_refused_for_meta_to_retry_and_not_kept(regions):
    us = regions["us-east-1"]
    # A number no reachable region serves (its home, ap-south-1, is down)
    raw, message_id, customer = _about(new_number())

    reply = post_webhook(Api(us.gateway.url), raw, sign(raw))

    assert reply.status == 503, reply.raw
    assert reply.json["error"]["code"] == "unavailable"
    kept_in_us = _everything_in(us)
    assert customer not in kept_in_us and message_id not in kept_in_us


def test_a_relayed_webhook_is_verified_again_and_never_relayed_further(regions):
    brazil = regions["sa-east-1"]
    raw, _message_id, _customer = _about(new_number())
    api = Api(brazil.gateway.url)

    forged = post_webhook(api, raw, sign(raw, "not-the-app-secret"))
    misdirected = api.post(
        "/webhooks/whatsapp",
        raw=raw,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(raw),
            "X-Chatshop-Relayed-From": "us-east-1",
        },
    )

    assert forged.status == 401
    assert misdirected.status == 421
    assert misdirected.json["error"]["code"] == "misdirected"


def test_connecting_sets_meta_s_override_and_the_number_s_webhooks_go_home_directly(regions, invoked):
    brazil, meta = regions["sa-east-1"], regions.meta
    waba = new_number()
    number = _brazilian_number(brazil, waba)
    assert meta.subscriptions.url_for(waba, "messages") == regions.webhook_url("sa-east-1")
    us_before = len(invoked["us-east-1"])

    # When the customer writes to the shop (Meta posts the message)
    customer = "55119" + str(secrets.randbelow(10**8)).zfill(8)
    body = meta.send_customer_message(number, customer, "Joana", {"type": "text", "text": {"body": "Oi"}})
    message_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]

    # Then sa-east-1 took it from Meta and answered, and the US ran nothing for it
    wait_for(lambda: _inbound(brazil, message_id))
    wait_for(lambda: meta.outbox(to=customer, phone_number_id=number), timeout=30)
    assert "WebhookFunction" in invoked["sa-east-1"]
    assert invoked["us-east-1"][us_before:] == []


def test_a_brazilian_and_a_german_customer_leave_nothing_in_the_us(regions):
    us, brazil, europe, meta = (
        regions["us-east-1"],
        regions["sa-east-1"],
        regions["eu-west-1"],
        regions.meta,
    )
    number = _brazilian_number(brazil)
    customer, name = "55219" + str(secrets.randbelow(10**8)).zfill(8), f"Residente {secrets.token_hex(4)}"

    # A chat in Brazil: a message and the assistant's reply, then "Stop promotions", which Meta posts
    # to the app's URL (the US: user_preferences are never overridden) and the US relays home
    sent = meta.send_customer_message(number, customer, name, {"type": "text", "text": {"body": "Oi"}})
    message_id = sent["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    wait_for(lambda: meta.outbox(to=customer, phone_number_id=number), timeout=30)
    meta.send_user_preference(number, customer, "stop")

    # A German user of the marketplace gives consent to personalised ads and is served in eu-west-1
    user_key = "u_" + secrets.token_urlsafe(16)
    eu = Api(europe.gateway.url)
    consent = {
        "purpose": "personalised_ads",
        "state": "given",
        "wording": "Show me ads based on what I look at and click in the marketplace.",
        "source": "marketplace_web",
    }
    assert eu.request("PUT", f"/privacy/consents/{user_key}", consent).status == 200
    decision = {
        "placements": [{"id": "results", "type": "search", "count": 2, "context": {"query": "tent"}}],
        "user": {"country": "DE", "key": user_key},
    }
    assert eu.post("/ads/decisions", decision).status == 200
    # The US serves no German user: asked anyway, it refuses
    refused = Api(us.gateway.url).post("/ads/decisions", decision)
    assert refused.status == 403, refused.raw

    # Then each home region holds its customer, and the US holds neither
    time.sleep(1.0)
    at_home = _everything_in(brazil)
    assert customer in at_home and message_id in at_home
    assert user_key in _everything_in(europe)
    kept_in_us = _everything_in(us)
    for trace in (customer, name, message_id, user_key):
        assert trace not in kept_in_us, trace


def _inbound(stack: LocalStack, message_id: str) -> dict | None:
    table = stack.stack.physical_id("MessagingTable")
    key = {"pk": {"S": f"INBOUND#{message_id}"}, "sk": {"S": "MSG"}}
    return stack.clients.client("dynamodb").get_item(TableName=table, Key=key).get("Item")
