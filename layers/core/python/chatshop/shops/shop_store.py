"""Data access for shops (see ``tables`` for the layout)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.indexes import GlobalSecondaryIndex

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .cursor import cursor_after, decode_cursor
from .domain import Page, Shop
from .tables import ShopItem, bind

_PROFILE = "PROFILE"
_BY_MERCHANT_KEYS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
_BY_COUNTRY_KEYS = frozenset({"pk", "sk", "gsi2pk", "gsi2sk"})
_BATCH_WRITE_LIMIT = 25
_UPDATABLE = (
    "name",
    "description",
    "timezone",
    "status",
    "language",
    "attribution_window_days",
    "marketing_interval_hours",
    "payment",
    "payment_link",
    "reservation_minutes",
    "cart_reminder_hours",
    "templates",
)


class ShopNotFound(Exception):
    pass


def shop_key(shop_id: str) -> str:
    return f"SHOP#{shop_id}"


def _listing_sort_key(shop: Shop) -> str:
    return f"SHOP#{shop.created_at.isoformat()}#{shop.id}"


class ShopStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._shops = bind(settings).shops

    def create(self, shop: Shop) -> None:
        item = self._shops(
            pk=shop_key(shop.id),
            sk=_PROFILE,
            merchant_id=shop.merchant_id,
            name=shop.name,
            description=shop.description,
            country=shop.country,
            currency=shop.currency,
            status=shop.status,
            timezone=shop.timezone,
            language=shop.language,
            attribution_window_days=shop.attribution_window_days,
            marketing_interval_hours=shop.marketing_interval_hours,
            payment=shop.payment,
            payment_link=shop.payment_link,
            reservation_minutes=shop.reservation_minutes,
            cart_reminder_hours=shop.cart_reminder_hours,
            templates=shop.templates or None,
            created_at=shop.created_at,
            updated_at=shop.updated_at,
            gsi1pk=f"MERCHANT#{shop.merchant_id}",
            gsi1sk=_listing_sort_key(shop),
            **_marketplace_keys(shop),
        )
        item.save(condition=self._shops.pk.does_not_exist())

    def get(self, shop_id: str, include_deleted: bool = False) -> Shop | None:
        try:
            item = self._shops.get(shop_key(shop_id), _PROFILE)
        except self._shops.DoesNotExist:
            return None
        if item.deleted and not include_deleted:
            return None
        return to_shop(item)

    def list_for_merchant(self, merchant_id: str, limit: int, cursor: str | None) -> Page[Shop]:
        return _page(
            self._shops.by_merchant, ("gsi1pk", f"MERCHANT#{merchant_id}"), _BY_MERCHANT_KEYS, limit, cursor
        )

    def list_marketplace(self, country: str, limit: int, cursor: str | None) -> Page[Shop]:
        return _page(
            self._shops.by_country, ("gsi2pk", f"COUNTRY#{country}"), _BY_COUNTRY_KEYS, limit, cursor
        )

    def update(self, shop: Shop, changes: dict[str, Any]) -> Shop:
        """Apply ``changes`` to a live shop; the marketplace index follows its status."""
        updated = shop.model_copy(update={**changes, "updated_at": datetime.now(UTC)})
        item = self._shops(pk=shop_key(shop.id), sk=_PROFILE)
        shops = self._shops
        actions = [getattr(shops, name).set(getattr(updated, name)) for name in _UPDATABLE if name in changes]
        actions.append(shops.updated_at.set(updated.updated_at))
        marketplace = _marketplace_keys(updated)
        if marketplace:
            actions += [shops.gsi2pk.set(marketplace["gsi2pk"]), shops.gsi2sk.set(marketplace["gsi2sk"])]
        else:
            actions += [shops.gsi2pk.remove(), shops.gsi2sk.remove()]
        try:
            item.update(actions=actions, condition=shops.pk.exists() & (shops.deleted == False))  # noqa: E712
        except UpdateError as exc:
            raise ShopNotFound(shop.id) from exc
        return updated

    def mark_deleted(self, shop_id: str) -> None:
        """Hide the shop from every read at once; its catalog is purged afterwards, asynchronously."""
        shops = self._shops
        item = shops(pk=shop_key(shop_id), sk=_PROFILE)
        try:
            item.update(
                actions=[
                    shops.deleted.set(True),
                    shops.updated_at.set(datetime.now(UTC)),
                    shops.gsi1pk.remove(),
                    shops.gsi1sk.remove(),
                    shops.gsi2pk.remove(),
                    shops.gsi2sk.remove(),
                ],
                condition=shops.pk.exists(),
            )
        except UpdateError as exc:
            raise ShopNotFound(shop_id) from exc

    def state(self, shop_id: str) -> str | None:
        """ "open", "closed" (marked deleted, not yet purged) or None when there is no such shop."""
        try:
            item = self._shops.get(shop_key(shop_id), _PROFILE, consistent_read=True)
        except self._shops.DoesNotExist:
            return None
        return "closed" if item.deleted else "open"

    def delete_contents(self, shop_id: str) -> int:
        """Delete every item of the shop's partition but the shop record; returns how many."""
        # boto3's client (its paginator) only here: a shop's reads and writes go through the models.
        dynamodb, table = aws.client("dynamodb", self._settings), self._shops.Meta.table_name
        deleted = 0
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": shop_key(shop_id)}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        for page in pages:
            keys = [key for key in page["Items"] if key["sk"]["S"] != _PROFILE]
            for start in range(0, len(keys), _BATCH_WRITE_LIMIT):
                requests = [
                    {"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_WRITE_LIMIT]
                ]
                while requests:
                    response = dynamodb.batch_write_item(RequestItems={table: requests})
                    requests = response.get("UnprocessedItems", {}).get(table, [])
            deleted += len(keys)
        return deleted

    def remove(self, shop_id: str) -> None:
        # Already gone, or not marked deleted: either way there is nothing to remove.
        with contextlib.suppress(DeleteError):
            self._shops(pk=shop_key(shop_id), sk=_PROFILE).delete(condition=self._shops.deleted == True)  # noqa: E712


def _page(
    index: GlobalSecondaryIndex,
    partition: tuple[str, str],
    key_names: frozenset[str],
    limit: int,
    cursor: str | None,
) -> Page[Shop]:
    start = decode_cursor(cursor, partition, key_names)
    # One more than asked for: a next page is promised only when there is something on it.
    results = list(index.query(partition[1], limit=limit + 1, last_evaluated_key=start))
    page = results[:limit]
    next_cursor = None
    if len(results) > limit:
        next_cursor = cursor_after({name: getattr(page[-1], name) for name in key_names})
    return Page[Shop](items=[to_shop(item) for item in page], next_cursor=next_cursor)


def _marketplace_keys(shop: Shop) -> dict[str, str]:
    # Sparse index: only active shops are in the marketplace listing of their country.
    if shop.status != "active":
        return {}
    return {"gsi2pk": f"COUNTRY#{shop.country}", "gsi2sk": _listing_sort_key(shop)}


def to_shop(item: ShopItem) -> Shop:
    return Shop(
        id=item.pk.removeprefix("SHOP#"),
        merchant_id=item.merchant_id,
        name=item.name,
        description=item.description or "",
        country=item.country,
        currency=item.currency,
        status=item.status,
        timezone=item.timezone,
        language=item.language,
        **_recruiting_settings(item),
        **_order_settings(item),
        created_at=item.created_at.astimezone(UTC),
        updated_at=item.updated_at.astimezone(UTC),
    )


def _recruiting_settings(item: ShopItem) -> dict[str, int]:
    # Left out when absent, so a shop stored before these settings gets the domain's defaults.
    settings = {
        "attribution_window_days": item.attribution_window_days,
        "marketing_interval_hours": item.marketing_interval_hours,
    }
    return {name: int(value) for name, value in settings.items() if value is not None}


def _order_settings(item: ShopItem) -> dict[str, object]:
    # Left out when absent, as above.
    settings: dict[str, object] = {}
    if item.payment is not None:
        settings["payment"] = item.payment
    if item.payment_link is not None:
        settings["payment_link"] = item.payment_link
    if item.reservation_minutes is not None:
        settings["reservation_minutes"] = int(item.reservation_minutes)
    if item.cart_reminder_hours is not None:
        settings["cart_reminder_hours"] = int(item.cart_reminder_hours)
    if item.templates:
        settings["templates"] = dict(item.templates)
    return settings
