"""Retention: what a customer and the shop said expires after the configured days, on AWS by the
table's TTL and the bucket's lifecycle rules, locally by the embedded AWS's expiry sweeper."""

from __future__ import annotations

import time

import pytest

from .conftest import wait_for
from .whatsapp import fresh_text, post_webhook, sign

pytestmark = pytest.mark.integration

DAY = 86_400
RETENTION_DAYS = 180  # the template's default MessageRetentionDays


def _conversation(app_stack, customer: str) -> list[dict]:
    dynamodb = app_stack.clients.client("dynamodb")
    table = app_stack.stack.physical_id("MessagingTable")
    return dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CONV#{_number(app_stack)}#{customer}"}},
    )["Items"]


def _number(app_stack) -> str:
    from .whatsapp import FIXTURE_NUMBER

    return FIXTURE_NUMBER


def _messages(items: list[dict]) -> list[dict]:
    return [item for item in items if item["sk"]["S"].startswith("MSG#")]


def test_messages_both_ways_carry_their_expiry_and_the_sweeper_deletes_them_when_it_comes(
    app_stack, api, fixture_shop
):
    # Given a customer's message and the shop's reply, stored in the conversation
    raw, _message_id, customer = fresh_text("hello")
    sent_at = time.time()
    assert post_webhook(api, raw, sign(raw)).status == 200
    messages = wait_for(
        lambda: [m for m in [_messages(_conversation(app_stack, customer))] if len(m) >= 2] or None
    )[0]

    # Then each expires RETENTION_DAYS after it was written, as the table's TTL attribute says
    for item in messages:
        expires = int(item["expires_at"]["N"])
        assert sent_at + RETENTION_DAYS * DAY - 60 <= expires <= time.time() + RETENTION_DAYS * DAY + 60
    ttl = app_stack.clients.client("dynamodb").describe_time_to_live(
        TableName=app_stack.stack.physical_id("MessagingTable")
    )["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")

    # When the sweeper runs a day after the retention ends, the conversation's messages are gone
    app_stack.expiry_sweeper().sweep(time.time() + (RETENTION_DAYS + 1) * DAY)
    assert _messages(_conversation(app_stack, customer)) == []


def test_the_webhook_archive_and_customers_media_expire_but_product_images_do_not(app_stack):
    s3 = app_stack.clients.client("s3")
    bucket = app_stack.stack.physical_id("MediaBucket")
    rules = {
        rule.get("Prefix") or rule.get("Filter", {}).get("Prefix"): rule
        for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    }

    assert rules["webhooks/"]["Expiration"]["Days"] == RETENTION_DAYS
    assert rules["whatsapp-media/"]["Expiration"]["Days"] == RETENTION_DAYS
    assert not any(prefix.startswith("products") for prefix in rules if prefix)
