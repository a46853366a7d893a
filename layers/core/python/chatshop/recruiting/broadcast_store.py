"""Data access for broadcasts, in the messaging table (boto3).

| item                            | pk                   | sk                           |
|---------------------------------|----------------------|------------------------------|
| a broadcast                     | BROADCASTS#<shop id> | BROADCAST#<broadcast id>     |
| what it did for one customer    | BROADCAST#<id>       | TO#<number id>#<wa_id>       |

A customer's outcome is written once (conditionally), so a page of the broadcast handled again
decides nobody twice; the counts are read from the outcomes and the messages they sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .domain import Broadcast, BroadcastStatus


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _broadcast_key(shop_id: str, broadcast_id: str) -> dict[str, Any]:
    return {"pk": _s(f"BROADCASTS#{shop_id}"), "sk": _s(f"BROADCAST#{broadcast_id}")}


class BroadcastStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._conditional_failed = self._dynamodb.exceptions.ConditionalCheckFailedException

    def create(self, broadcast: Broadcast, interval_hours: int) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **_broadcast_key(broadcast.shop_id, broadcast.id),
                "broadcast": _s(broadcast.model_dump_json(exclude={"counts"})),
                "status": _s(broadcast.status),
                "interval_hours": {"N": str(interval_hours)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, shop_id: str, broadcast_id: str) -> tuple[Broadcast, int] | None:
        """The broadcast and the shop's interval between offers when it was made."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_broadcast_key(shop_id, broadcast_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        broadcast = Broadcast.model_validate_json(item["broadcast"]["S"])
        finished = item.get("finished_at", {}).get("S")
        broadcast = broadcast.model_copy(
            update={
                "status": item["status"]["S"],
                "finished_at": datetime.fromisoformat(finished) if finished else None,
            }
        )
        return broadcast, int(item["interval_hours"]["N"])

    def set_status(
        self, shop_id: str, broadcast_id: str, status: BroadcastStatus, finished_at: datetime | None = None
    ) -> None:
        update, values = "SET #status = :status", {":status": _s(status)}
        if finished_at is not None:
            update += ", finished_at = :finished"
            values[":finished"] = _s(finished_at.isoformat())
        self._dynamodb.update_item(
            TableName=self._table,
            Key=_broadcast_key(shop_id, broadcast_id),
            UpdateExpression=update,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def outcome(self, broadcast_id: str, phone_number_id: str, customer: str) -> dict[str, str] | None:
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key=_outcome_key(broadcast_id, phone_number_id, customer),
            ConsistentRead=True,
        ).get("Item")
        return _plain(item) if item else None

    def record_outcome(
        self,
        broadcast_id: str,
        phone_number_id: str,
        customer: str,
        decision: str,
        reason: str | None = None,
        outbound_id: str | None = None,
    ) -> bool:
        """What the broadcast did for the customer ("queued" or "skipped"), once; False if decided."""
        item = {**_outcome_key(broadcast_id, phone_number_id, customer), "decision": _s(decision)}
        if reason is not None:
            item["reason"] = _s(reason)
        if outbound_id is not None:
            item["outbound_id"] = _s(outbound_id)
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._conditional_failed:
            return False
        return True

    def outcomes(self, broadcast_id: str) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :to)",
            "ExpressionAttributeValues": {":pk": _s(f"BROADCAST#{broadcast_id}"), ":to": _s("TO#")},
            "ConsistentRead": True,
        }
        while True:
            page = self._dynamodb.query(**query)
            found.extend(_plain(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _outcome_key(broadcast_id: str, phone_number_id: str, customer: str) -> dict[str, Any]:
    return {"pk": _s(f"BROADCAST#{broadcast_id}"), "sk": _s(f"TO#{phone_number_id}#{customer}")}


def _plain(item: dict[str, Any]) -> dict[str, str]:
    return {name: item[name]["S"] for name in ("decision", "reason", "outbound_id") if name in item}
