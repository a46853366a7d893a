"""Data access for the acquisition counters, in the messaging table (boto3).

| item                                   | pk                    | sk                      |
|----------------------------------------|-----------------------|-------------------------|
| a shop's conversations of a day/source | ACQ#<shop id>         | DAY#<yyyy-mm-dd>#<key>  |
| a conversation counted                 | ACQCOUNTED#<shop id>  | CONV#<number id>#<wa_id> |

A report reads one query of the shop's partition between two days. Each count is one transaction
of the marker (written once) and the counter's ADD, so a conversation handled twice is counted
once. (Orders are counted from the orders context's own query by shop and time, where each order
keeps what it was credited to.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .sources import Source


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _partition(shop_id: str) -> str:
    return f"ACQ#{shop_id}"


class AcquisitionStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._cancelled = self._dynamodb.exceptions.TransactionCanceledException

    def count_conversation(self, shop_id: str, conversation_key: str, source: Source, day: date) -> bool:
        """One more conversation from ``source`` on ``day``; False if this one was counted before."""
        return self._count(shop_id, f"CONV#{conversation_key}", source, day, "ADD conversations :one", {})

    def _count(
        self, shop_id: str, marker: str, source: Source, day: date, update: str, extra: dict[str, Any]
    ) -> bool:
        counter = {
            "TableName": self._table,
            "Key": {"pk": _s(_partition(shop_id)), "sk": _s(f"DAY#{day.isoformat()}#{source.key}")},
            "UpdateExpression": f"{update} SET kind = :kind, #source = :source",
            "ExpressionAttributeNames": {"#source": "source", **extra.get("names", {})},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":kind": _s(source.kind),
                ":source": _s(source.key),
                **extra.get("values", {}),
            },
        }
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "pk": _s(f"ACQCOUNTED#{shop_id}"),
                                "sk": _s(marker),
                                "source": _s(source.key),
                                "day": _s(day.isoformat()),
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Update": counter},
                ]
            )
        except self._cancelled:
            return False
        return True

    def days(self, shop_id: str, first: date, last: date) -> list[dict[str, Any]]:
        """The shop's counters from ``first`` to ``last`` (both included), as plain values."""
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": _s(_partition(shop_id)),
                ":first": _s(f"DAY#{first.isoformat()}#"),
                # "~" sorts after every character a source key is made of.
                ":last": _s(f"DAY#{last.isoformat()}#~"),
            },
        }
        while True:
            page = self._dynamodb.query(**kwargs)
            found.extend(_plain(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": item["source"]["S"],
        "kind": item["kind"]["S"],
        "conversations": int(item.get("conversations", {}).get("N", "0")),
    }
