"""Data access for customers' consent to offers, in the messaging table (boto3).

| item                        | pk               | sk                                |
|-----------------------------|------------------|-----------------------------------|
| one customer's consent      | OFFERS#<shop id> | CUSTOMER#<number id>#<wa_id>      |

A shop's consents are one partition, so a broadcast reads its opted-in customers with a query
(never a scan). The inbound worker alone changes a status (the conversation's single writer); the
broadcast worker only claims a customer's next offer, with a conditional update that holds the
shop's interval between two offers however many broadcasts run at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.shops.cursor import decode_cursor, encode_cursor

from .domain import Consent, ConsentStatus, ConsentVia

_KEYS = frozenset({"pk", "sk"})


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _partition(shop_id: str) -> str:
    return f"OFFERS#{shop_id}"


def _key(shop_id: str, phone_number_id: str, customer: str) -> dict[str, Any]:
    return {"pk": _s(_partition(shop_id)), "sk": _s(f"CUSTOMER#{phone_number_id}#{customer}")}


class ConsentStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._conditional_failed = self._dynamodb.exceptions.ConditionalCheckFailedException

    def get(self, shop_id: str, phone_number_id: str, customer: str) -> Consent | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_key(shop_id, phone_number_id, customer), ConsistentRead=True
        ).get("Item")
        return _consent(shop_id, item) if item else None

    def change(
        self,
        shop_id: str,
        phone_number_id: str,
        customer: str,
        status: ConsentStatus,
        via: ConsentVia,
        at: datetime,
        words: str | None = None,
    ) -> bool:
        """Set the status; False when it was that already (nothing written: said once)."""
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":status": _s(status),
            ":at": _s(at.isoformat()),
            ":via": _s(via),
            ":number": _s(phone_number_id),
            ":customer": _s(customer),
        }
        update = (
            "SET #status = :status, changed_at = :at, via = :via, "
            "phone_number_id = :number, customer = :customer"
        )
        if status == "opted_in":
            update += ", opted_in_at = :at, opted_in_words = :words"
            values[":words"] = _s(words or "")
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(shop_id, phone_number_id, customer),
                UpdateExpression=update,
                ConditionExpression="attribute_not_exists(#status) OR #status <> :status",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self._conditional_failed:
            return False
        return True

    def opted_in(self, shop_id: str, limit: int, cursor: str | None) -> tuple[list[Consent], str | None]:
        """One page of the shop's customers who asked for offers (the others are filtered out)."""
        partition = _partition(shop_id)
        start = decode_cursor(cursor, ("pk", partition), _KEYS)
        found = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :customer)",
            FilterExpression="#status = :in",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":pk": _s(partition),
                ":customer": _s("CUSTOMER#"),
                ":in": _s("opted_in"),
            },
            Limit=limit,
            ConsistentRead=True,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        consents = [_consent(shop_id, item) for item in found.get("Items", [])]
        return consents, encode_cursor(found.get("LastEvaluatedKey"))

    def claim_offer(
        self,
        consent: Consent,
        broadcast_id: str,
        outbound_id: str,
        now: datetime,
        wait: timedelta,
        strikes: int,
    ) -> bool:
        """Take the customer's next offer for this broadcast: only while they are opted in and
        ``wait`` has passed since their last offer (a claim by this same broadcast, cut short
        before it was recorded, is taken again). False: not now."""
        values = {
            ":in": _s("opted_in"),
            ":now": _s(now.isoformat()),
            ":cutoff": _s((now - wait).isoformat()),
            ":broadcast": _s(broadcast_id),
            ":outbound": _s(outbound_id),
            ":strikes": {"N": str(strikes)},
        }
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(consent.shop_id, consent.phone_number_id, consent.customer),
                UpdateExpression=(
                    "SET last_marketing_at = :now, last_broadcast = :broadcast, "
                    "last_outbound_id = :outbound, limit_strikes = :strikes"
                ),
                ConditionExpression=(
                    "#status = :in AND (attribute_not_exists(last_marketing_at) "
                    "OR last_marketing_at <= :cutoff OR last_broadcast = :broadcast)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except self._conditional_failed:
            return False
        return True


def _consent(shop_id: str, item: dict[str, Any]) -> Consent:
    def text(name: str) -> str | None:
        return item[name]["S"] if name in item and item[name]["S"] else None

    def when(name: str) -> datetime | None:
        value = text(name)
        return datetime.fromisoformat(value) if value else None

    return Consent(
        shop_id=shop_id,
        phone_number_id=item["phone_number_id"]["S"],
        customer=item["customer"]["S"],
        status=item["status"]["S"],
        changed_at=datetime.fromisoformat(item["changed_at"]["S"]),
        via=item["via"]["S"],
        opted_in_at=when("opted_in_at"),
        opted_in_words=text("opted_in_words"),
        last_marketing_at=when("last_marketing_at"),
        last_outbound_id=text("last_outbound_id"),
        limit_strikes=int(item["limit_strikes"]["N"]) if "limit_strikes" in item else 0,
    )
