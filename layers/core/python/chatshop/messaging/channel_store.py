"""Data access for WhatsApp channels in the messaging table.

Two items per channel, written in one transaction: ``CHANNEL#<phone_number_id>`` (the routing
record the webhook and the sender look up; its key makes a number belong to one shop) and
``SHOP#<shop_id> / CHANNEL#whatsapp`` (the shop's pointer to it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .channel_models import WhatsAppChannel


class NumberTaken(Exception):
    pass


def _routing_key(phone_number_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CHANNEL#{phone_number_id}"}, "sk": {"S": "CHANNEL"}}


def _shop_key(shop_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SHOP#{shop_id}"}, "sk": {"S": "CHANNEL#whatsapp"}}


class ChannelStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("messaging_table")
        self._dynamodb = aws.client("dynamodb", settings)
        # Which table this store reads, so caches of its answers never mix two tables.
        self.identity = (self._table, settings.region)

    def save(self, channel: WhatsAppChannel, replaces: str | None) -> None:
        """Store the channel; the number must be free or already this shop's."""
        routing = {**_routing_key(channel.phone_number_id), **_attributes(channel)}
        pointer = {**_shop_key(channel.shop_id), **_attributes(channel)}
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": routing,
                    "ConditionExpression": "attribute_not_exists(pk) OR shop_id = :shop",
                    "ExpressionAttributeValues": {":shop": {"S": channel.shop_id}},
                }
            },
            {"Put": {"TableName": self._table, "Item": pointer}},
        ]
        if replaces and replaces != channel.phone_number_id:
            # The shop moves to another number: the old one is released in the same step.
            writes.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": _routing_key(replaces),
                        "ConditionExpression": "shop_id = :shop",
                        "ExpressionAttributeValues": {":shop": {"S": channel.shop_id}},
                    }
                }
            )
        try:
            self._dynamodb.transact_write_items(TransactItems=writes)
        except self._dynamodb.exceptions.TransactionCanceledException as exc:
            raise NumberTaken(channel.phone_number_id) from exc

    def for_shop(self, shop_id: str) -> WhatsAppChannel | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=_shop_key(shop_id), ConsistentRead=True
        ).get("Item")
        return _channel(item) if item else None

    def for_number(self, phone_number_id: str) -> WhatsAppChannel | None:
        item = self._dynamodb.get_item(TableName=self._table, Key=_routing_key(phone_number_id)).get("Item")
        return _channel(item) if item else None


def _attributes(channel: WhatsAppChannel) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "shop_id": {"S": channel.shop_id},
        "phone_number_id": {"S": channel.phone_number_id},
        "waba_id": {"S": channel.waba_id},
        "display_phone_number": {"S": channel.display_phone_number},
        "connected_at": {"S": channel.connected_at.isoformat()},
        "updated_at": {"S": channel.updated_at.isoformat()},
    }
    if channel.catalog_id:
        attributes["catalog_id"] = {"S": channel.catalog_id}
    if channel.dataset_id:
        attributes["dataset_id"] = {"S": channel.dataset_id}
    return attributes


def _channel(item: dict[str, Any]) -> WhatsAppChannel:
    return WhatsAppChannel(
        shop_id=item["shop_id"]["S"],
        phone_number_id=item["phone_number_id"]["S"],
        waba_id=item["waba_id"]["S"],
        display_phone_number=item["display_phone_number"]["S"],
        catalog_id=item.get("catalog_id", {}).get("S"),
        dataset_id=item.get("dataset_id", {}).get("S"),
        connected_at=datetime.fromisoformat(item["connected_at"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
    )
