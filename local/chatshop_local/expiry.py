"""What AWS deletes by itself and the embedded AWS never does: DynamoDB TTL and S3 lifecycle expiry.

moto records a table's TTL attribute and a bucket's lifecycle rules but never acts on them, so data
meant to expire (messages, webhook archives, customers' media, rate counters) would live for ever
on a developer's machine and retention could not be seen working. This loop does what the services
do, from the same configuration the template gives them: a TTL item whose attribute holds an epoch
second in the past is deleted (conditionally, so an item rewritten meanwhile stays), and an object
older than its bucket's ``Expiration.Days`` rule for its prefix is deleted. AWS acts within a day or
two; this runs every minute.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from .loops import BackgroundLoop

log = logging.getLogger("chatshop.local")

SWEEP_EVERY_S = 60.0


@dataclass(frozen=True)
class Swept:
    items: int
    objects: int


class ExpirySweeper(BackgroundLoop):
    name = "expiry-sweeper"

    def __init__(
        self,
        dynamodb: Any,
        s3: Any,
        tables: list[str],
        buckets: list[str],
        every_s: float = SWEEP_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._dynamodb, self._s3 = dynamodb, s3
        self._tables, self._buckets = tables, buckets
        self._every_s = every_s
        self._clock = clock

    def step(self) -> None:
        if self.wait(self._every_s):
            return
        swept = self.sweep()
        if swept.items or swept.objects:
            log.info("expired %d items and %d objects", swept.items, swept.objects)

    def sweep(self, now: float | None = None) -> Swept:
        at = self._clock() if now is None else now
        items = sum(self._sweep_table(table, at) for table in self._tables)
        objects = sum(self._sweep_bucket(bucket, at) for bucket in self._buckets)
        return Swept(items, objects)

    # --- DynamoDB TTL ---

    def _sweep_table(self, table: str, now: float) -> int:
        attribute = self._ttl_attribute(table)
        if attribute is None:
            return 0
        expired = 0
        paginator = self._dynamodb.get_paginator("scan")
        schema = self._dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        key_names = [k["AttributeName"] for k in schema]
        for page in paginator.paginate(
            TableName=table,
            FilterExpression="#ttl < :now",
            ExpressionAttributeNames={"#ttl": attribute},
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
        ):
            for item in page.get("Items", []):
                if self._delete_expired(table, {k: item[k] for k in key_names}, attribute, now):
                    expired += 1
        return expired

    def _ttl_attribute(self, table: str) -> str | None:
        described = self._dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if described.get("TimeToLiveStatus") != "ENABLED":
            return None
        return described.get("AttributeName")

    def _delete_expired(self, table: str, key: dict[str, Any], attribute: str, now: float) -> bool:
        try:
            self._dynamodb.delete_item(
                TableName=table,
                Key=key,
                ConditionExpression="#ttl < :now",
                ExpressionAttributeNames={"#ttl": attribute},
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False  # rewritten with a later expiry since the scan
            raise
        return True

    # --- S3 lifecycle ---

    def _sweep_bucket(self, bucket: str, now: float) -> int:
        expired = 0
        for prefix, days in self._expiration_rules(bucket):
            cutoff = datetime.fromtimestamp(now, UTC) - timedelta(days=days)
            paginator = self._s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                old = [{"Key": o["Key"]} for o in page.get("Contents", []) if o["LastModified"] < cutoff]
                if old:
                    self._s3.delete_objects(Bucket=bucket, Delete={"Objects": old, "Quiet": True})
                    expired += len(old)
        return expired

    def _expiration_rules(self, bucket: str) -> list[tuple[str, int]]:
        try:
            rules = self._s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
                return []
            raise
        found = []
        for rule in rules:
            days = rule.get("Expiration", {}).get("Days")
            if rule.get("Status") != "Enabled" or not days:
                continue
            found.append((_prefix(rule), int(days)))
        return found


def _prefix(rule: dict[str, Any]) -> str:
    rule_filter = rule.get("Filter", {})
    if "Prefix" in rule_filter:
        return rule_filter["Prefix"]
    if "And" in rule_filter:
        return rule_filter["And"].get("Prefix", "")
    return rule.get("Prefix", "")
