"""What the messaging table holds about one customer of one shop, read out and deleted (boto3).

Everything about the conversation hangs from keys the customer's number is in (the profile, the
thread, the conversation's state, offers opt-in, broadcast outcomes, acquisition marks, the archive
index) or from ids the thread names (the inbound markers by Meta's message id, our outbound records
and their Meta ids, the conversation's opaque id). So the thread is read first, and deleted last:
a run cut short finds the rest again from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .table_items import delete_keys, partition, plain


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def archive_index_partition(phone_number_id: str, customer: str) -> str:
    """The webhook archives that hold a customer's messages or statuses, one item per archive."""
    return f"ARCHIVED#{phone_number_id}#{customer}"


@dataclass
class ConversationHoldings:
    """One conversation's data as read: for an export, and for an erasure to know what to delete."""

    profile: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] | None = None
    offers: dict[str, Any] | None = None
    broadcasts: list[dict[str, Any]] = field(default_factory=list)
    media_keys: list[str] = field(default_factory=list)
    archive_keys: list[str] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)  # every item, the thread's last

    def as_export(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "messages": self.messages,
            "conversation_state": self.state,
            "offers_opt_in": self.offers,
            "broadcasts_received": self.broadcasts,
        }


class MessagingHoldings:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)

    def read(self, shop_id: str, phone_number_id: str, customer: str) -> ConversationHoldings:
        found = ConversationHoldings()
        side: list[dict[str, Any]] = []
        thread: list[dict[str, Any]] = []
        outbound_ids: list[str] = []
        for item in self._partition(f"CONV#{phone_number_id}#{customer}"):
            thread.append(_key(item))
            if item["sk"]["S"] == "STATE":
                found.state = json.loads(item["state"]["S"])
                if conversation_id := found.state.get("conversation_id"):
                    side.append({"pk": _s(f"CONVID#{conversation_id}"), "sk": _s("CONV")})
                continue
            if not item["sk"]["S"].startswith("MSG#"):
                continue
            summary = json.loads(item["summary"]["S"])
            found.messages.append(
                {"at": item["sk"]["S"].split("#")[1], "direction": item["direction"]["S"], "message": summary}
            )
            if summary.get("media_key"):
                found.media_keys.append(summary["media_key"])
            if "archive_key" in item:
                found.archive_keys.append(item["archive_key"]["S"])
            if item["direction"]["S"] == "in":
                side.append({"pk": _s(f"INBOUND#{item['sk']['S'].split('#', 2)[2]}"), "sk": _s("MSG")})
            elif "outbound_id" in item:
                outbound_ids.append(item["outbound_id"]["S"])
        for outbound in self._get_many(
            [{"pk": _s(f"OUTBOUND#{oid}"), "sk": _s("MSG")} for oid in outbound_ids]
        ):
            side.append(_key(outbound))
            wamid = json.loads(outbound["record"]["S"]).get("wamid")
            if wamid:
                side.append({"pk": _s(f"WAMID#{wamid}"), "sk": _s("OUT")})
        for item in self._partition(archive_index_partition(phone_number_id, customer)):
            found.archive_keys.append(item["sk"]["S"])
            side.append(_key(item))
        profile_key = {"pk": _s(f"CUSTOMER#{phone_number_id}#{customer}"), "sk": _s("PROFILE")}
        offers_key = {"pk": _s(f"OFFERS#{shop_id}"), "sk": _s(f"CUSTOMER#{phone_number_id}#{customer}")}
        counted_key = {"pk": _s(f"ACQCOUNTED#{shop_id}"), "sk": _s(f"CONV#{phone_number_id}#{customer}")}
        outcome_keys = [
            {"pk": _s(broadcast["sk"]["S"]), "sk": _s(f"TO#{phone_number_id}#{customer}")}
            for broadcast in self._partition(f"BROADCASTS#{shop_id}")
        ]
        for item in self._get_many([profile_key, offers_key, counted_key, *outcome_keys]):
            key = _key(item)
            side.append(key)
            if key == profile_key:
                found.profile = plain(item, ("pk", "sk"))
            elif key == offers_key:
                found.offers = plain(item, ("pk", "sk", "gsi_pk", "gsi_sk"))
            elif key["pk"]["S"].startswith("BROADCAST#"):
                found.broadcasts.append(
                    {"broadcast_id": key["pk"]["S"].split("#", 1)[1], **plain(item, ("pk", "sk"))}
                )
        found.media_keys = list(dict.fromkeys(found.media_keys))
        found.archive_keys = list(dict.fromkeys(found.archive_keys))
        found.keys = side + thread
        return found

    def delete(self, keys: list[dict[str, Any]]) -> int:
        """Delete these items, in the order given (the thread's last)."""
        return delete_keys(self._dynamodb, self._table, keys)

    def _partition(self, pk: str) -> Iterator[dict[str, Any]]:
        return partition(self._dynamodb, self._table, pk)

    def _get_many(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        unique = list({json.dumps(key, sort_keys=True): key for key in keys}.values())
        for start in range(0, len(unique), 100):
            pending = unique[start : start + 100]
            while pending:
                answer = self._dynamodb.batch_get_item(
                    RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}}
                )
                found += answer.get("Responses", {}).get(self._table, [])
                pending = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return found


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}
