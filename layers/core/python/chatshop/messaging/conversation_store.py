"""Data access for conversations in the messaging table (boto3): customers, messages both ways,
and the state of every message sent.

| item                         | pk                               | sk                    |
|------------------------------|----------------------------------|-----------------------|
| customer (the 24 h window)   | CUSTOMER#<number id>#<wa_id>     | PROFILE               |
| a message, in its thread     | CONV#<number id>#<wa_id>         | MSG#<time>#<id>       |
| inbound marker (idempotency) | INBOUND#<wamid>                  | MSG                   |
| outbound message             | OUTBOUND#<our id>                | MSG                   |
| Meta's id -> ours            | WAMID#<wamid>                    | OUT                   |
| unparsed payload             | UNPARSED#<sha256>                | RAW                   |
| send-rate slot               | RATE#<number id>                 | <epoch second>        |

Every write that must happen once is conditional, so a redelivered queue message changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .records import OutboundRecord

if TYPE_CHECKING:
    # Meta's webhook models: the inbound worker's, loaded there; the sender, which stores and reads
    # outbound records here, never parses a webhook.
    from .inbound import StatusUpdate

_RATE_SLOT_TTL_S = 120
_BATCH_GET_LIMIT = 100


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _customer_key(phone_number_id: str, customer: str) -> dict[str, Any]:
    return {"pk": _s(f"CUSTOMER#{phone_number_id}#{customer}"), "sk": _s("PROFILE")}


def _outbound_key(outbound_id: str) -> dict[str, Any]:
    return {"pk": _s(f"OUTBOUND#{outbound_id}"), "sk": _s("MSG")}


class ConversationStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._conditional_failed = self._dynamodb.exceptions.ConditionalCheckFailedException
        self._retention = timedelta(days=settings.message_retention_days)

    def _expires(self, at: datetime) -> dict[str, str]:
        """The table's TTL attribute for an item about a message of ``at``: DynamoDB deletes it then."""
        return {"N": str(int((at + self._retention).timestamp()))}

    # --- inbound ------------------------------------------------------------------------------

    def record_inbound(
        self,
        shop_id: str,
        message_id: str,
        phone_number_id: str,
        customer: str,
        at: datetime,
        summary: dict[str, Any],
        archive_key: str | None = None,
    ) -> bool:
        """Store an inbound message once; False when it was already stored. ``archive_key``: the
        webhook archive it came in, named on the message so an erasure finds that archive too.

        In the thread it is placed by when it was first stored, not by Meta's timestamp: Meta's is in
        whole seconds, so a message sent a moment after one of our replies would sort before it. The
        marker keeps that time, so a message handled again lands under the same key.
        """
        received = datetime.now(UTC)
        marker = {
            "pk": _s(f"INBOUND#{message_id}"),
            "sk": _s("MSG"),
            "shop_id": _s(shop_id),
            "received_at": _s(received.isoformat()),
            "expires_at": self._expires(received),
        }
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=marker, ConditionExpression="attribute_not_exists(pk)"
            )
            first = True
        except self._conditional_failed:
            first = False
            stored = self._dynamodb.get_item(
                TableName=self._table, Key={"pk": marker["pk"], "sk": marker["sk"]}, ConsistentRead=True
            ).get("Item", {})
            # Markers written before arrival times were kept: Meta's timestamp, as they were placed.
            received = datetime.fromisoformat(stored["received_at"]["S"]) if "received_at" in stored else at
        thread_item = {
            "pk": _s(f"CONV#{phone_number_id}#{customer}"),
            "sk": _s(f"MSG#{received.isoformat()}#{message_id}"),
            "direction": _s("in"),
            "shop_id": _s(shop_id),
            "summary": _s(json.dumps(summary, ensure_ascii=False, default=str)),
            "expires_at": self._expires(received),
            **({"archive_key": _s(archive_key)} if archive_key else {}),
        }
        # Written every time, under a key of its own making: a worker cut short after the marker
        # leaves the message in the thread on its next try, and a repeat changes nothing.
        self._dynamodb.put_item(TableName=self._table, Item=thread_item)
        return first

    def touch_customer(self, phone_number_id: str, customer: str, name: str | None, at: datetime) -> None:
        """Move the customer's last-message time forward (never back: queues reorder across groups)."""
        names = {"#at": "last_inbound_at"}
        values: dict[str, Any] = {":at": _s(at.isoformat())}
        update = "SET #at = :at"
        if name:
            names["#name"] = "name"
            values[":name"] = _s(name)
            update += ", #name = :name"
        # A later message may have moved it already; then there is nothing to do.
        with contextlib.suppress(self._conditional_failed):
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_customer_key(phone_number_id, customer),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(#at) OR #at < :at",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def last_inbound_at(self, phone_number_id: str, customer: str) -> datetime | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_customer_key(phone_number_id, customer), ConsistentRead=True
        ).get("Item")
        if not item or "last_inbound_at" not in item:
            return None
        return datetime.fromisoformat(item["last_inbound_at"]["S"])

    def keep_unparsed(self, shop_id: str | None, reason: str, body: dict[str, Any]) -> None:
        raw = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"UNPARSED#{hashlib.sha256(raw.encode()).hexdigest()}"),
                "sk": _s("RAW"),
                "shop_id": _s(shop_id or ""),
                "reason": _s(reason),
                "body": _s(raw),
                "kept_at": _s(datetime.now(UTC).isoformat()),
                "expires_at": self._expires(datetime.now(UTC)),
            },
        )

    def index_archive(self, phone_number_id: str, customer: str, archive_key: str) -> None:
        """Name a webhook archive that holds something about the customer (a status of a message to
        them), so an erasure finds it; it expires with the archive itself."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"ARCHIVED#{phone_number_id}#{customer}"),
                "sk": _s(archive_key),
                "expires_at": self._expires(datetime.now(UTC)),
            },
        )

    # --- outbound -----------------------------------------------------------------------------

    def create_outbound(self, record: OutboundRecord) -> bool:
        """Store a new outbound message; False when one with this id exists already."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **_outbound_key(record.id),
                    "record": _s(record.model_dump_json()),
                    "status": _s(record.status),
                    "expires_at": self._expires(record.created_at),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._conditional_failed:
            return False
        # In the thread beside what the customer sent, so the conversation reads in order; under
        # a key of its own making, so writing it again changes nothing.
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"CONV#{record.phone_number_id}#{record.to}"),
                "sk": _s(f"MSG#{record.created_at.isoformat()}#{record.id}"),
                "direction": _s("out"),
                "shop_id": _s(record.shop_id),
                "outbound_id": _s(record.id),
                "summary": _s(json.dumps(record.message, ensure_ascii=False, default=str)),
                "expires_at": self._expires(record.created_at),
            },
        )
        return True

    def thread(
        self, phone_number_id: str, customer: str, limit: int, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The conversation's messages both ways, oldest first, one page: ``after`` is the sort key
        of the last message of the page before."""
        start = (
            {"ExclusiveStartKey": {"pk": _s(f"CONV#{phone_number_id}#{customer}"), "sk": _s(after)}}
            if after
            else {}
        )
        found = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :msg)",
            ExpressionAttributeValues={":pk": _s(f"CONV#{phone_number_id}#{customer}"), ":msg": _s("MSG#")},
            Limit=limit,
            **start,
        )
        items = [
            {
                "key": item["sk"]["S"],
                "direction": item["direction"]["S"],
                "summary": json.loads(item["summary"]["S"]),
                **({"outbound_id": item["outbound_id"]["S"]} if "outbound_id" in item else {}),
            }
            for item in found.get("Items", [])
        ]
        last = found.get("LastEvaluatedKey")
        return items, (last["sk"]["S"] if last else None)

    def outbound(self, outbound_id: str) -> OutboundRecord | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_outbound_key(outbound_id), ConsistentRead=True
        ).get("Item")
        return OutboundRecord.model_validate_json(item["record"]["S"]) if item else None

    def outbound_many(self, outbound_ids: Sequence[str]) -> dict[str, OutboundRecord]:
        """The records of these messages that exist, by id (read 100 at a time)."""
        found: dict[str, OutboundRecord] = {}
        unique = list(dict.fromkeys(outbound_ids))
        for start in range(0, len(unique), _BATCH_GET_LIMIT):
            keys = [_outbound_key(outbound_id) for outbound_id in unique[start : start + _BATCH_GET_LIMIT]]
            while keys:
                answer = self._dynamodb.batch_get_item(
                    RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}}
                )
                for item in answer.get("Responses", {}).get(self._table, []):
                    record = OutboundRecord.model_validate_json(item["record"]["S"])
                    found[record.id] = record
                keys = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return found

    def transition(
        self, record: OutboundRecord, expected: tuple[str, ...], **changes: Any
    ) -> OutboundRecord | None:
        """Move a record on, only from one of the ``expected`` statuses; None if it had moved already."""
        updated = record.model_copy(update=changes)
        values = {f":s{i}": _s(status) for i, status in enumerate(expected)}
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **_outbound_key(record.id),
                    "record": _s(updated.model_dump_json()),
                    "status": _s(updated.status),
                    "expires_at": self._expires(record.created_at),
                },
                ConditionExpression=f"attribute_exists(pk) AND #status IN ({', '.join(values)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except self._conditional_failed:
            return None
        return updated

    def link_wamid(self, wamid: str, outbound_id: str) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"WAMID#{wamid}"),
                "sk": _s("OUT"),
                "outbound_id": _s(outbound_id),
                "expires_at": self._expires(datetime.now(UTC)),
            },
        )

    def outbound_for_wamid(self, wamid: str) -> OutboundRecord | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"pk": _s(f"WAMID#{wamid}"), "sk": _s("OUT")}
        ).get("Item")
        return self.outbound(item["outbound_id"]["S"]) if item else None

    def apply_status(self, update: StatusUpdate) -> bool:
        """Record Meta's status on the message it is about, monotonically; False if it changes nothing."""
        from .inbound import advances

        record = self.outbound_for_wamid(update.message_id)
        if record is None or not advances(
            record.status if record.status in ("sent", "delivered", "read", "failed") else None, update.status
        ):
            return False
        error = update.errors[0] if update.errors else None
        changes: dict[str, Any] = {"status": update.status}
        if error is not None:
            changes |= {"error_code": error.code, "error": error.message or error.title}
        return self.transition(record, (record.status,), **changes) is not None

    # --- rate ---------------------------------------------------------------------------------

    def take_send_slot(self, phone_number_id: str, per_second: int, now: float | None = None) -> bool:
        """One of the number's ``per_second`` sends in the current second, shared by every sender."""
        second = int(now if now is not None else time.time())
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"pk": _s(f"RATE#{phone_number_id}"), "sk": _s(str(second))},
                UpdateExpression="ADD #count :one SET #expires = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#expires": "expires_at"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(per_second)},
                    ":expires": {"N": str(second + _RATE_SLOT_TTL_S)},
                },
            )
        except self._conditional_failed:
            return False
        return True
