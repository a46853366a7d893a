"""Residency across two regions' stacks: a webhook about a Brazilian shop's number that reaches the US
region is relayed, unchanged, to sa-east-1 and nothing of it is kept in the US."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chatshop_local.emulator import free_port
from chatshop_local.stack import LocalStack, StackOptions

from .conftest import REPO_ROOT, Api, sign_up, wait_for
from .test_whatsapp_channel import channel_request, new_number
from .whatsapp import fresh_text, post_webhook, sign

pytestmark = pytest.mark.integration


def _stack(state_dir: Path, region: str, api_port: int, peers: str = "") -> LocalStack:
    stack = LocalStack(
        StackOptions(
            template_path=REPO_ROOT / "template.yaml",
            state_dir=state_dir,
            region=region,
            api_port=api_port,
            aws_port=free_port(),
            graph_port=free_port(),
            seed=False,
            parameters={"Stage": "local", "WebhookPeers": peers},
        )
    )
    stack.start()
    return stack


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    brazil_port, dead_port = free_port(), free_port()
    peers = (
        f"sa-east-1=http://127.0.0.1:{brazil_port}/webhooks/whatsapp,"
        # A home region that is down: its webhooks must come again, not be dropped.
        f"ap-south-1=http://127.0.0.1:{dead_port}/webhooks/whatsapp"
    )
    brazil = _stack(tmp_path_factory.mktemp("sa-east-1"), "sa-east-1", brazil_port)
    us = _stack(tmp_path_factory.mktemp("us-east-1"), "us-east-1", free_port(), peers)
    yield us, brazil
    us.stop(save=False)
    brazil.stop(save=False)


def _brazilian_number(brazil: LocalStack) -> str:
    merchant = sign_up(Api(brazil.gateway.url))
    reply = merchant.post(
        "/shops", {"name": "Loja", "country": "BR", "currency": "BRL", "timezone": "America/Sao_Paulo"}
    )
    assert reply.status == 201, reply.raw
    number = new_number()
    connect = merchant.request("PUT", f"/shops/{reply.json['id']}/channels/whatsapp", channel_request(number))
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
    us, brazil = regions
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
    us, _brazil = regions
    # A number no reachable region serves (its home, ap-south-1, is down)
    raw, message_id, customer = _about(new_number())

    reply = post_webhook(Api(us.gateway.url), raw, sign(raw))

    assert reply.status == 503, reply.raw
    assert reply.json["error"]["code"] == "unavailable"
    kept_in_us = _everything_in(us)
    assert customer not in kept_in_us and message_id not in kept_in_us


def test_a_relayed_webhook_is_verified_again_and_never_relayed_further(regions):
    _us, brazil = regions
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
