"""Retention runs locally: the embedded AWS's TTL items and lifecycle-ruled objects expire as on AWS."""

from __future__ import annotations

import time
import uuid

import pytest

from chatshop_local.emulator import MotoServer, free_port
from chatshop_local.expiry import ExpirySweeper

from .test_embedded_aws import client_of

pytestmark = pytest.mark.integration

DAY = 86_400


@pytest.fixture(scope="module")
def emulator():
    server = MotoServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dynamodb(emulator):
    return client_of(emulator, "dynamodb")


@pytest.fixture
def s3(emulator):
    return client_of(emulator, "s3")


def _table(dynamodb, ttl: bool) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True}
        )
    return name


def _put(dynamodb, table: str, pk: str, expires_at: float | None) -> None:
    item = {"pk": {"S": pk}}
    if expires_at is not None:
        item["expires_at"] = {"N": str(int(expires_at))}
    dynamodb.put_item(TableName=table, Item=item)


def _keys(dynamodb, table: str) -> set[str]:
    return {i["pk"]["S"] for i in dynamodb.scan(TableName=table)["Items"]}


def test_items_past_their_ttl_are_deleted_and_the_others_kept(dynamodb, s3):
    # Given a TTL table with an expired item, a live one and one without the attribute
    now = time.time()
    table = _table(dynamodb, ttl=True)
    _put(dynamodb, table, "expired", now - 10)
    _put(dynamodb, table, "live", now + DAY)
    _put(dynamodb, table, "kept", None)
    # and a table without TTL holding an item that would count as expired
    plain = _table(dynamodb, ttl=False)
    _put(dynamodb, plain, "not-a-ttl-table", now - 10)

    swept = ExpirySweeper(dynamodb, s3, tables=[table, plain], buckets=[]).sweep(now)

    assert swept.items == 1
    assert _keys(dynamodb, table) == {"live", "kept"}
    assert _keys(dynamodb, plain) == {"not-a-ttl-table"}


def test_objects_older_than_their_prefixs_rule_are_deleted(dynamodb, s3):
    # Given a bucket whose webhook archives expire after 30 days and whose product images never do
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "archives",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "webhooks/"},
                    "Expiration": {"Days": 30},
                },
                {
                    "ID": "off",
                    "Status": "Disabled",
                    "Filter": {"Prefix": "images/"},
                    "Expiration": {"Days": 1},
                },
            ]
        },
    )
    for key in ("webhooks/a.json", "webhooks/b.json", "images/p.jpg"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    sweeper = ExpirySweeper(dynamodb, s3, tables=[], buckets=[bucket])

    # When swept today, then 31 days from now
    today = sweeper.sweep(time.time())
    later = sweeper.sweep(time.time() + 31 * DAY)

    # Then nothing goes today, the archives go after their 30 days, the images stay
    assert (today.objects, later.objects) == (0, 2)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["images/p.jpg"]


def test_a_bucket_without_lifecycle_rules_is_left_alone(dynamodb, s3):
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="anything", Body=b"x")

    assert (
        ExpirySweeper(dynamodb, s3, tables=[], buckets=[bucket]).sweep(time.time() + 999 * DAY).objects == 0
    )
