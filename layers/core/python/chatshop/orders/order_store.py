"""Data access for orders: the orders table (boto3), and the one transaction that places an order.

| item                        | pk                          | sk                 |
|-----------------------------|-----------------------------|--------------------|
| order                       | SHOP#<shop id>              | ORDER#<order id>   |
| payment event (idempotency) | PAYMENTEVENT#<provider>#<id>| EVENT              |
| payment's order (lookup)    | PAYMENT#<provider>#<ref>    | ORDER              |

Indexes, each keyed ``<placed at>#<order id>`` so a list reads newest first:

- ``ByShop``: ``shop_pk = SHOP#<shop id>``, every order of a shop;
- ``ByStatus``: ``status_pk = SHOP#<shop id>#<status>``, moved with each transition;
- ``ByCustomer``: ``customer_pk = CUSTOMER#<shop id>#<wa_id>``, a customer's orders in the chat;
- ``Expiring``: sparse, only unpaid orders that hold stock until a time:
  ``expiry_pk = EXPIRES#<hour of expiry>``, ``expiry_sk = <expires at>#<shop id>#<order id>``; the
  expiry sweep reads the hours gone by instead of scanning.

A table of its own rather than the shops table: a shop's partition there is purged when the shop
closes, which must not take its orders (records of money) along; the shops table's stream feeds the
search index and should not carry order traffic; and in the embedded AWS a transaction copies
every table it touches, so an order's put copies this small table, not the whole catalog.

The order itself is kept as its JSON document beside the attributes that are conditioned on or
indexed (``status``). Every change is conditional on the status it was read in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.errors import Unavailable
from chatshop.shops.cursor import cursor_after, decode_cursor
from chatshop.shops.domain import Page
from chatshop.shops.product_store import ProductStore

from .domain import Order

_CONFLICT_ATTEMPTS = 6
_CONFLICT_BACKOFF_S = 0.02
_CREATED_KEYS = {
    "ByShop": ("shop_pk", frozenset({"pk", "sk", "shop_pk", "created_sk"})),
    "ByStatus": ("status_pk", frozenset({"pk", "sk", "status_pk", "created_sk"})),
}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def order_key(shop_id: str, order_id: str) -> dict[str, Any]:
    return {"pk": _s(f"SHOP#{shop_id}"), "sk": _s(f"ORDER#{order_id}")}


def expiry_bucket(moment: datetime) -> str:
    return f"EXPIRES#{moment.astimezone(UTC):%Y-%m-%dT%H}"


@dataclass(frozen=True)
class Reservation:
    """A line of an order as the transaction sees it: take stock, or only check the product."""

    item: dict[str, Any]  # one TransactWriteItems entry on the product


@dataclass(frozen=True)
class PlaceResult:
    """``created``; or the order existed (``existing``); or the lines whose conditions failed, by
    index, with the product item as it was (None: no such product)."""

    created: bool
    existing: bool = False
    failed_lines: dict[int, dict[str, Any] | None] | None = None


class TransitionLost(Exception):
    """The order was not in the status it was read in: someone else moved it first."""


class OrderStore:
    def __init__(self, settings: Settings, products: ProductStore | None = None) -> None:
        self._table = settings.require("orders_table")
        self._dynamodb = aws.client("dynamodb", settings)
        self._products = products or ProductStore(settings)
        errors = self._dynamodb.exceptions
        self._conditional_failed = errors.ConditionalCheckFailedException
        self._cancelled = errors.TransactionCanceledException

    @property
    def products(self) -> ProductStore:
        return self._products

    # --- reads --------------------------------------------------------------------------------

    def get(self, shop_id: str, order_id: str) -> Order | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=order_key(shop_id, order_id), ConsistentRead=True
        ).get("Item")
        return _order(item) if item else None

    def list(self, shop_id: str, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        index = "ByStatus" if status else "ByShop"
        partition_name, key_names = _CREATED_KEYS[index]
        partition = f"SHOP#{shop_id}#{status}" if status else f"SHOP#{shop_id}"
        start = decode_cursor(cursor, (partition_name, partition), key_names)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": partition_name},
            "ExpressionAttributeValues": {":p": _s(partition)},
            "ScanIndexForward": False,
            # One more than asked for: a next page is promised only when there is something on it.
            "Limit": limit + 1,
        }
        if start:
            request["ExclusiveStartKey"] = start
        items = self._dynamodb.query(**request)["Items"]
        page = items[:limit]
        next_cursor = None
        if len(items) > limit:
            next_cursor = cursor_after({name: page[-1][name]["S"] for name in key_names})
        return Page[Order](items=[_order(item) for item in page], next_cursor=next_cursor)

    def latest_for_customer(self, shop_id: str, wa_id: str, limit: int) -> list[Order]:
        items = self._dynamodb.query(
            TableName=self._table,
            IndexName="ByCustomer",
            KeyConditionExpression="customer_pk = :p",
            ExpressionAttributeValues={":p": _s(f"CUSTOMER#{shop_id}#{wa_id}")},
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
        return [_order(item) for item in items]

    def all_for_customer(self, shop_id: str, wa_id: str) -> list[tuple[Order, str]]:
        """Every order of the customer in the shop, oldest first, each with its document as stored
        (a privacy request reads them all, and rewrites one only if it is still that document)."""
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="ByCustomer",
            KeyConditionExpression="customer_pk = :p",
            ExpressionAttributeValues={":p": _s(f"CUSTOMER#{shop_id}#{wa_id}")},
        )
        return [(_order(item), item["doc"]["S"]) for page in pages for item in page["Items"]]

    def rewrite(self, before_doc: str, after: Order) -> bool:
        """Replace the order's document and indexes with ``after``'s, only if it is still the stored
        ``before_doc`` (a move in between wins; the caller reads it again); False when it had changed."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=self._order_item(after),
                ConditionExpression="#doc = :doc",
                ExpressionAttributeNames={"#doc": "doc"},
                ExpressionAttributeValues={":doc": _s(before_doc)},
            )
        except self._conditional_failed:
            return False
        return True

    def placed_between(self, shop_id: str, start: datetime, end: datetime) -> list[Order]:
        """Every order of the shop placed in [start, end), oldest first (reports)."""
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="ByShop",
            KeyConditionExpression="shop_pk = :p AND created_sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": _s(f"SHOP#{shop_id}"),
                ":a": _s(_stamp(start)),
                ":b": _s(_stamp(end - timedelta(microseconds=1)) + "#~"),
            },
        )
        return [_order(item) for page in pages for item in page["Items"]]

    def expiring(self, bucket: str, before: datetime) -> list[tuple[str, str]]:
        """(shop id, order id) of the orders in an expiry hour that expire before ``before``."""
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="Expiring",
            KeyConditionExpression="expiry_pk = :p AND expiry_sk < :t",
            ExpressionAttributeValues={":p": _s(bucket), ":t": _s(_stamp(before))},
            ProjectionExpression="expiry_sk",
        )
        found = []
        for page in pages:
            for item in page["Items"]:
                _, shop_id, order_id = item["expiry_sk"]["S"].split("#")
                found.append((shop_id, order_id))
        return found

    # --- placing ------------------------------------------------------------------------------

    def place(self, order: Order, reservations: Sequence[Reservation]) -> PlaceResult:
        """One transaction: the order, if it does not exist yet, and every line's stock, or nothing.

        Transactions that collide on a hot product (TransactionConflict) are tried again after a
        short random wait; a failed condition is answered, not retried."""
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._order_item(order),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *(reservation.item for reservation in reservations),
        ]
        reasons = self._transact(items)
        if reasons is None:
            return PlaceResult(created=True)
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            return PlaceResult(created=False, existing=True)
        failed = {
            index - 1: reason.get("Item") or None
            for index, reason in enumerate(reasons)
            if index > 0 and reason.get("Code") == "ConditionalCheckFailed"
        }
        return PlaceResult(created=False, failed_lines=failed)

    # --- transitions --------------------------------------------------------------------------

    def transition(self, before: Order, after: Order, stock_back: Iterable[tuple[str, int]] = ()) -> Order:
        """Write ``after`` if the order is still in ``before``'s status, giving back ``stock_back``
        ((product id, quantity)) in the same transaction. A product that no longer counts its
        stock (or is gone) is left out and the rest is tried again. TransitionLost: moved first."""
        returns = dict(stock_back)
        while True:
            update = self._status_update(before, after)
            if not returns:
                try:
                    self._dynamodb.update_item(**update)
                except self._conditional_failed:
                    raise TransitionLost(before.id) from None
                return after
            product_ids = list(returns)
            items = [
                {"Update": update},
                *(self._products.stock_return(before.shop_id, pid, returns[pid]) for pid in product_ids),
            ]
            reasons = self._transact(items)
            if reasons is None:
                return after
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                raise TransitionLost(before.id)
            for index, reason in enumerate(reasons[1:]):
                if reason.get("Code") == "ConditionalCheckFailed":
                    returns.pop(product_ids[index], None)

    def _status_update(self, before: Order, after: Order) -> dict[str, Any]:
        names = {"#status": "status", "#doc": "doc", "#spk": "status_pk"}
        values: dict[str, Any] = {
            ":from": _s(before.status),
            ":to": _s(after.status),
            ":doc": _s(after.model_dump_json()),
            ":spk": _s(f"SHOP#{after.shop_id}#{after.status}"),
        }
        expression = "SET #status = :to, #doc = :doc, #spk = :spk"
        if after.expires_at is None or after.status != "pending_payment":
            expression += " REMOVE expiry_pk, expiry_sk"
        return {
            "TableName": self._table,
            "Key": order_key(before.shop_id, before.id),
            "UpdateExpression": expression,
            "ConditionExpression": "#status = :from",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    # --- payment events -----------------------------------------------------------------------

    def record_payment_event(self, provider: str, event_id: str, shop_id: str, outcome: str) -> bool:
        """Keep a payment provider's event id; False when it was kept before (a replay)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": _s(f"PAYMENTEVENT#{provider}#{event_id}"),
                    "sk": _s("EVENT"),
                    "shop_id": _s(shop_id),
                    "outcome": _s(outcome),
                    "received_at": _s(datetime.now(UTC).isoformat()),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._conditional_failed:
            return False
        return True

    def payment_event_seen(self, provider: str, event_id: str) -> bool:
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": _s(f"PAYMENTEVENT#{provider}#{event_id}"), "sk": _s("EVENT")},
            ConsistentRead=True,
        ).get("Item")
        return item is not None

    def record_payment_order(self, provider: str, reference: str, shop_id: str, order_id: str) -> None:
        """Which order a provider's payment paid, for its later events (a refund names the payment,
        not the order). Written again by a retried event, to the same values."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": _s(f"PAYMENT#{provider}#{reference}"),
                "sk": _s("ORDER"),
                "shop_id": _s(shop_id),
                "order_id": _s(order_id),
            },
        )

    def payment_order(self, provider: str, reference: str) -> tuple[str, str] | None:
        """The (shop id, order id) a provider's payment paid, or None for a payment not seen."""
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": _s(f"PAYMENT#{provider}#{reference}"), "sk": _s("ORDER")},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return item["shop_id"]["S"], item["order_id"]["S"]

    # --- helpers ------------------------------------------------------------------------------

    def _transact(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """None when the transaction went through, else the cancellation reasons (one per item).
        Conflicts with another transaction on the same items are waited out a few times."""
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self._dynamodb.transact_write_items(TransactItems=items)
                return None
            except self._cancelled as exc:
                reasons = exc.response.get("CancellationReasons") or []
                codes = {reason.get("Code") for reason in reasons}
                if "ConditionalCheckFailed" in codes or not codes & {
                    "TransactionConflict",
                    "ThrottlingError",
                }:
                    if not reasons:
                        raise
                    return reasons
                time.sleep(random.uniform(0, _CONFLICT_BACKOFF_S * 2**attempt))  # noqa: S311 - jitter
        raise Unavailable("The products are in great demand right now; please try again.")

    def _order_item(self, order: Order) -> dict[str, Any]:
        created = f"{_stamp(order.placed_at)}#{order.id}"
        item: dict[str, Any] = {
            **order_key(order.shop_id, order.id),
            "status": _s(order.status),
            "doc": _s(order.model_dump_json()),
            "shop_pk": _s(f"SHOP#{order.shop_id}"),
            "status_pk": _s(f"SHOP#{order.shop_id}#{order.status}"),
            "created_sk": _s(created),
        }
        if customer := order.customer_wa_id or order.customer_pseudonym:
            item["customer_pk"] = _s(f"CUSTOMER#{order.shop_id}#{customer}")
        if order.expires_at is not None and order.status == "pending_payment":
            item["expiry_pk"] = _s(expiry_bucket(order.expires_at))
            item["expiry_sk"] = _s(f"{_stamp(order.expires_at)}#{order.shop_id}#{order.id}")
        return item


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _order(item: dict[str, Any]) -> Order:
    return Order.model_validate_json(item["doc"]["S"])
