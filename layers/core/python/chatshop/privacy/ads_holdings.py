"""A WhatsApp customer's side of Shop Ads (boto3): everything under their ad user key.

The key is the keyed hash of their number (``chatshop.ads.users.chat_user_key``), so it is found
from the number alone: the user partition (consent, profile, flags, frequency caps) and the consent
log beside it. Ad events keep no user key; campaigns and spend name no person.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .messaging_holdings import _plain

_BATCH_WRITE_LIMIT = 25


class AdsHoldings:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("ads_table")
        self._dynamodb = aws.client("dynamodb", settings)

    def read(self, user_key: str) -> dict[str, Any]:
        user = [
            _plain(item, ("pk",)) | {"sk": item["sk"]["S"]} for item in self._partition(f"USER#{user_key}")
        ]
        log = [
            _plain(item, ("pk",)) | {"sk": item["sk"]["S"]}
            for item in self._partition(f"CONSENTLOG#{user_key}")
        ]
        return {"user_key": user_key, "items": user, "consent_log": log}

    def erase(self, user_key: str) -> int:
        keys = [
            {"pk": item["pk"], "sk": item["sk"]}
            for pk in (f"USER#{user_key}", f"CONSENTLOG#{user_key}")
            for item in self._partition(pk)
        ]
        for start in range(0, len(keys), _BATCH_WRITE_LIMIT):
            pending = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_WRITE_LIMIT]]
            while pending:
                answer = self._dynamodb.batch_write_item(RequestItems={self._table: pending})
                pending = answer.get("UnprocessedItems", {}).get(self._table, [])
        return len(keys)

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )
        for page in pages:
            yield from page.get("Items", [])
