"""Data access for conversation states, in the messaging table beside the messages (boto3).

| item                   | pk                       | sk    | Inbox index: inbox_pk / inbox_sk       |
|------------------------|--------------------------|-------|----------------------------------------|
| a conversation's state | CONV#<number id>#<wa_id> | STATE | INBOX#<shop>#<holder> / <last at>#<id> |
| its opaque id -> key   | CONVID#<conversation id> | CONV  |                                        |

A state whose cart awaits its reminder also carries the CartReminders index's keys, and only then
(a sparse index): ``remind_pk`` the hour it is due (``REMIND#2026-12-02T09``), ``remind_sk`` the
moment and the cart (``<due>#<cart id>``). The reminder function reads the hours just gone, never
the table.

The state sorts after the conversation's ``MSG#`` items, so a thread is read without it. The Inbox
index lists a shop's conversations by who holds them, newest first; moving a conversation between
holders is one write of its state, which DynamoDB reflects in the index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.shops.cursor import decode_cursor, encode_cursor

from .state import ConversationState, Holder

INBOX_INDEX = "Inbox"
REMINDER_INDEX = "CartReminders"
_INBOX_KEYS = frozenset({"pk", "sk", "inbox_pk", "inbox_sk"})


class StaleState(Exception):
    """The state changed since it was read: the work that read it must run again."""


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def state_key(phone_number_id: str, customer: str) -> dict[str, Any]:
    return {"pk": _s(f"CONV#{phone_number_id}#{customer}"), "sk": _s("STATE")}


def inbox_partition(shop_id: str, holder: Holder) -> str:
    return f"INBOX#{shop_id}#{holder}"


class StateStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._conditional_failed = self._dynamodb.exceptions.ConditionalCheckFailedException

    def get(self, phone_number_id: str, customer: str) -> ConversationState | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=state_key(phone_number_id, customer), ConsistentRead=True
        ).get("Item")
        return _state(item) if item else None

    def by_id(self, conversation_id: str) -> ConversationState | None:
        pointer = self._dynamodb.get_item(
            TableName=self._table, Key={"pk": _s(f"CONVID#{conversation_id}"), "sk": _s("CONV")}
        ).get("Item")
        if not pointer:
            return None
        return self.get(pointer["phone_number_id"]["S"], pointer["customer"]["S"])

    def create_pointer(self, state: ConversationState) -> None:
        """The opaque id's way back to the conversation; written once, before the state itself."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"CONVID#{state.conversation_id}"),
                "sk": _s("CONV"),
                "shop_id": _s(state.shop_id),
                "phone_number_id": _s(state.phone_number_id),
                "customer": _s(state.customer),
            },
        )

    def save(self, state: ConversationState) -> ConversationState:
        """Write ``state`` over the version it was read at (0: new); StaleState if it moved on."""
        saved = state.model_copy(update={"version": state.version + 1})
        item = {
            **state_key(state.phone_number_id, state.customer),
            "state": _s(saved.model_dump_json(exclude={"version"})),
            "version": {"N": str(saved.version)},
            "inbox_pk": _s(inbox_partition(state.shop_id, state.holder)),
            "inbox_sk": _s(f"{_latest(state)}#{state.conversation_id}"),
        }
        item.update(reminder_keys(state))
        if state.version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :read",
                "ExpressionAttributeValues": {":read": {"N": str(state.version)}},
            }
        try:
            self._dynamodb.put_item(TableName=self._table, Item=item, **condition)
        except self._conditional_failed:
            raise StaleState(state.conversation_id) from None
        return saved

    def inbox(
        self, shop_id: str, holder: Holder, limit: int, cursor: str | None
    ) -> tuple[list[ConversationState], str | None]:
        """A shop's conversations held by ``holder``, the latest message first, one page."""
        partition = inbox_partition(shop_id, holder)
        start = decode_cursor(cursor, ("inbox_pk", partition), _INBOX_KEYS)
        found = self._dynamodb.query(
            TableName=self._table,
            IndexName=INBOX_INDEX,
            KeyConditionExpression="inbox_pk = :pk",
            ExpressionAttributeValues={":pk": _s(partition)},
            ScanIndexForward=False,
            Limit=limit,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        states = [_state(item) for item in found.get("Items", [])]
        return states, encode_cursor(found.get("LastEvaluatedKey"))


@dataclass(frozen=True)
class DueCart:
    phone_number_id: str
    customer: str
    cart_id: str
    due: datetime


class ReminderIndex:
    """The carts whose reminder is due, from the sparse CartReminders index, hour by hour."""

    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)

    def due(self, now: datetime, lookback: timedelta) -> list[DueCart]:
        """Carts due by ``now`` and at most ``lookback`` ago (older ones are past the customer
        window anyway), oldest first."""
        now = now.astimezone(UTC)
        hour = (now - lookback).replace(minute=0, second=0, microsecond=0)
        found: list[DueCart] = []
        while hour <= now:
            found.extend(self._hour(reminder_partition(hour), now))
            hour += timedelta(hours=1)
        return found

    def _hour(self, partition: str, now: datetime) -> list[DueCart]:
        carts: list[DueCart] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": REMINDER_INDEX,
            "KeyConditionExpression": "remind_pk = :pk AND remind_sk <= :now",
            # "~" sorts after every "#<cart id>", so a cart due at this very second is in.
            "ExpressionAttributeValues": {":pk": _s(partition), ":now": _s(f"{now.isoformat()}~")},
        }
        while True:
            page = self._dynamodb.query(**query)
            for item in page.get("Items", []):
                _, number, customer = item["pk"]["S"].split("#", 2)
                due, cart_id = item["remind_sk"]["S"].rsplit("#", 1)
                carts.append(DueCart(number, customer, cart_id, datetime.fromisoformat(due)))
            if "LastEvaluatedKey" not in page:
                return carts
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def reminder_partition(due: datetime) -> str:
    return f"REMIND#{due.astimezone(UTC):%Y-%m-%dT%H}"


def reminder_keys(state: ConversationState) -> dict[str, Any]:
    cart = state.cart
    if cart.empty or cart.remind_at is None or cart.reminded or cart.id is None:
        return {}
    due = cart.remind_at.astimezone(UTC)
    return {"remind_pk": _s(reminder_partition(due)), "remind_sk": _s(f"{due.isoformat()}#{cart.id}")}


def _latest(state: ConversationState) -> str:
    at = state.last_message_at or state.created_at
    return at.isoformat() if at is not None else ""


def _state(item: dict[str, Any]) -> ConversationState:
    data = json.loads(item["state"]["S"])
    return ConversationState.model_validate({**data, "version": int(item["version"]["N"])})
