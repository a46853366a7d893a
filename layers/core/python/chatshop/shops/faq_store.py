"""Data access for shop FAQs: one item per shop in the shops table.

``pk=SHOP#<id>``, ``sk=FAQ``: in the shop's partition, so closing a shop purges its FAQ with its
catalog, and outside the ``PRODUCT#`` range that product lists and the product-changes stream
read. The entries are one zlib-packed JSON document: 100 entries at their longest, in a script
of three or four UTF-8 bytes a character, would not fit DynamoDB's 400 KB item limit unpacked
(up to 520 KB). Packed, real text takes a fraction of that, and even random characters of the
four-byte planes, the least compressible input the rules allow, stay near 390 KB.

Every write is conditional or atomic: a replace on the version the writer read (none stored
counting as version 0), or, without one, a single update that bumps the version itself.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .shop_store import shop_key

FAQ_SORT_KEY = "FAQ"
# Under the 400 KB (409,600 bytes) item limit, with room for the keys, the version and the time.
# The FAQ rules keep every FAQ under it; this guards a write against rules loosened later.
MAX_PACKED_BYTES = 400_000
# No FAQ is ever stored at this version: a write conditional on it always fails.
NO_VERSION = -1


class StaleFaq(Exception):
    """The FAQ is not at the version the writer expected."""


class FaqTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"{size} bytes packed, at most {limit}")


@dataclass(frozen=True)
class StoredFaq:
    shop_id: str
    entries: list[tuple[str, str]]  # (question, answer), in the merchant's order
    version: int
    updated_at: datetime


class FaqStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("shops_table")
        self._client = aws.client("dynamodb", settings)

    def get(self, shop_id: str, *, consistent: bool = True) -> StoredFaq | None:
        response = self._client.get_item(TableName=self._table, Key=_key(shop_id), ConsistentRead=consistent)
        item = response.get("Item")
        if item is None:
            return None
        return StoredFaq(
            shop_id=shop_id,
            entries=unpack(item["entries"]["B"]),
            version=int(item["version"]["N"]),
            updated_at=datetime.fromisoformat(item["updated_at"]["S"]).astimezone(UTC),
        )

    def put(
        self,
        shop_id: str,
        entries: Sequence[tuple[str, str]],
        now: datetime,
        *,
        expected_version: int | None,
    ) -> StoredFaq:
        """Replace the shop's FAQ; with ``expected_version``, only if it is the stored one (0: none
        is stored), else StaleFaq. Returns what was stored, with its new version."""
        packed = pack(entries)
        if len(packed) > MAX_PACKED_BYTES:
            raise FaqTooLarge(len(packed), MAX_PACKED_BYTES)
        values: dict[str, Any] = {":entries": {"B": packed}, ":now": {"S": now.isoformat()}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(shop_id),
            "ReturnValues": "UPDATED_NEW",
            # Names by placeholder throughout, so no attribute can collide with a reserved word.
            "ExpressionAttributeNames": {"#entries": "entries", "#at": "updated_at", "#version": "version"},
        }
        if expected_version is None:
            request["UpdateExpression"] = "SET #entries = :entries, #at = :now ADD #version :one"
            values[":one"] = {"N": "1"}
        else:
            request["UpdateExpression"] = "SET #entries = :entries, #at = :now, #version = :next"
            values[":next"] = {"N": str(expected_version + 1)}
            if expected_version == 0:
                request["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                request["ConditionExpression"] = "#version = :expected"
                values[":expected"] = {"N": str(expected_version)}
        request["ExpressionAttributeValues"] = values
        try:
            response = self._client.update_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise StaleFaq(shop_id) from exc
        return StoredFaq(
            shop_id=shop_id,
            entries=list(entries),
            version=int(response["Attributes"]["version"]["N"]),
            updated_at=now,
        )


def _key(shop_id: str) -> dict[str, Any]:
    return {"pk": {"S": shop_key(shop_id)}, "sk": {"S": FAQ_SORT_KEY}}


def pack(entries: Sequence[tuple[str, str]]) -> bytes:
    document = [{"question": question, "answer": answer} for question, answer in entries]
    # ensure_ascii=False: an escaped \\uXXXX is six bytes where UTF-8 takes two to four.
    return zlib.compress(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())


def unpack(packed: bytes) -> list[tuple[str, str]]:
    return [(entry["question"], entry["answer"]) for entry in json.loads(zlib.decompress(packed))]
