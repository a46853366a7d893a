"""What the holdings read and delete in DynamoDB, item by item (boto3's low-level client): a whole
partition, a batch of deletions, and an item as plain JSON values for an export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

_BATCH_WRITE_LIMIT = 25


def partition(dynamodb: Any, table: str, pk: str) -> Iterator[dict[str, Any]]:
    """Every item under ``pk``, read consistently, page by page."""
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    for page in pages:
        yield from page.get("Items", [])


def delete_keys(dynamodb: Any, table: str, keys: Sequence[dict[str, Any]]) -> int:
    """Delete these items, 25 to a request, in the order given; how many were asked."""
    for start in range(0, len(keys), _BATCH_WRITE_LIMIT):
        pending = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_WRITE_LIMIT]]
        while pending:
            answer = dynamodb.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
    return len(keys)


def plain(item: dict[str, Any], leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """An item's attributes as JSON values, ``leave_out`` left out."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {
        name: _json(deserializer.deserialize(value)) for name, value in item.items() if name not in leave_out
    }


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(_json(part) for part in value)
    if isinstance(value, list):
        return [_json(part) for part in value]
    if isinstance(value, dict):
        return {name: _json(part) for name, part in value.items()}
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return value
