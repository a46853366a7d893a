"""Data access for a shop's links, in the messaging table (boto3).

| item          | pk              | sk           |
|---------------|-----------------|--------------|
| a shop's link | LINKS#<shop id> | LINK#<code>  |

A conversation that starts with a link's code is on the shop's number, so the code is looked up
in the shop's own partition, and the same code in two shops names two links.
"""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.shops.cursor import decode_cursor, encode_cursor

from .domain import Link, LinkWithQr

_KEYS = frozenset({"pk", "sk"})


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _partition(shop_id: str) -> str:
    return f"LINKS#{shop_id}"


class CodeTaken(Exception):
    """Another link of the shop has this code already."""


class LinkStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._conditional_failed = self._dynamodb.exceptions.ConditionalCheckFailedException

    def create(self, link: LinkWithQr) -> None:
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": _s(_partition(link.shop_id)),
                    "sk": _s(f"LINK#{link.id}"),
                    "link": _s(link.model_dump_json()),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._conditional_failed:
            raise CodeTaken(link.id) from None

    def get(self, shop_id: str, code: str) -> Link | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"pk": _s(_partition(shop_id)), "sk": _s(f"LINK#{code}")}
        ).get("Item")
        # The link without its QR code: what a conversation needs of it.
        return Link.model_validate_json(item["link"]["S"]) if item else None

    def list(self, shop_id: str, limit: int, cursor: str | None) -> tuple[list[LinkWithQr], str | None]:
        partition = _partition(shop_id)
        start = decode_cursor(cursor, ("pk", partition), _KEYS)
        found = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :link)",
            ExpressionAttributeValues={":pk": _s(partition), ":link": _s("LINK#")},
            Limit=limit,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        links = [LinkWithQr.model_validate_json(item["link"]["S"]) for item in found.get("Items", [])]
        return links, encode_cursor(found.get("LastEvaluatedKey"))
