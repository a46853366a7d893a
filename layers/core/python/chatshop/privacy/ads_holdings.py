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

from .table_items import delete_keys, partition, plain


class AdsHoldings:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("ads_table")
        self._dynamodb = aws.client("dynamodb", settings)

    def read(self, user_key: str) -> dict[str, Any]:
        user = [plain(item, ("pk",)) for item in self._partition(f"USER#{user_key}")]
        log = [plain(item, ("pk",)) for item in self._partition(f"CONSENTLOG#{user_key}")]
        return {"user_key": user_key, "items": user, "consent_log": log}

    def erase(self, user_key: str) -> int:
        keys = [
            {"pk": item["pk"], "sk": item["sk"]}
            for pk in (f"USER#{user_key}", f"CONSENTLOG#{user_key}")
            for item in self._partition(pk)
        ]
        return delete_keys(self._dynamodb, self._table, keys)

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        return partition(self._dynamodb, self._table, pk)
