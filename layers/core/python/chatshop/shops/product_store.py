"""Data access for products (see ``tables`` for the layout).

Every write is conditional: a create only if the product does not exist, a change only if the
stored version is the one the writer read. Feed imports write many products at once under the
same conditions, one conditional write each, except the products new to the catalog, which are
stored in batches (see :meth:`ProductStore.create_many`).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.constants import DELETE_REQUEST, PUT_REQUEST
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chatshop.platform import aws
from chatshop.platform.aws import MAX_ATTEMPTS
from chatshop.platform.concurrency import map_in_context
from chatshop.platform.config import Settings

from .cursor import cursor_after, decode_cursor
from .domain import Page, Product, ProductImage, Shop
from .shop_store import shop_key, to_shop
from .tables import IndexStateItem, ProductItem, bind

_T = TypeVar("_T")
_PRODUCT_KEYS = frozenset({"pk", "sk"})
# Rows compared and written together by an import: its reads (100 keys each) and writes (25 items
# each) go out eight at a time, so the calls overlap one another and the work between them; at 100
# rows a batch, an import waited on each call in turn (5,000 rows: ~760 -> ~1,100 rows/s locally).
WRITE_BATCH = 1000
_WRITE_CONCURRENCY = 8
_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25  # DynamoDB's most requests in one BatchWriteItem
_UNPROCESSED_BACKOFF_S = 0.05
# A product's own columns, kept out of its catalog fields (see _item).
_NOT_FIELDS = frozenset({"id", "shop_id", "retailer_id", "images", "version", "created_at", "updated_at"})
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+0000"  # pynamodb's UTCDateTimeAttribute


class DuplicateProduct(Exception):
    pass


class StaleProduct(Exception):
    """The product changed (or vanished) since the writer read it."""


class ProductNotFound(Exception):
    pass


@dataclass(frozen=True)
class StoredVersion:
    version: int
    content_hash: str
    product: Product


@dataclass(frozen=True)
class ProductWrite:
    product: Product
    content_hash: str
    expected_version: int | None  # None: the product must not exist yet


@dataclass(frozen=True)
class IndexState:
    """What the search indexer embedded for a product (see ``tables.IndexStateItem``)."""

    shop_id: str
    product_id: str
    country: str
    text_hash: str | None = None
    # image id -> "indexed", or the code the image was rejected with
    images: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Listed:
    """Products read for display with their shops; closed shops are left out of ``shops``."""

    shops: dict[str, Shop]
    products: dict[str, Product]


def product_key(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def index_state_key(shop_id: str) -> str:
    return f"INDEXSTATE#{shop_id}"


class ProductStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._products = bind(settings).products
        self._index_states = bind(settings).index_states

    def create(self, product: Product, content_hash: str) -> None:
        try:
            self._item(product, content_hash).save(condition=self._products.pk.does_not_exist())
        except PutError as exc:
            raise DuplicateProduct(product.retailer_id) from exc

    def replace(self, product: Product, content_hash: str, expected_version: int) -> None:
        try:
            self._item(product, content_hash).save(condition=self._products.version == expected_version)
        except PutError as exc:
            raise StaleProduct(product.id) from exc

    def get(self, shop_id: str, product_id: str) -> StoredVersion | None:
        try:
            item = self._products.get(shop_key(shop_id), product_key(product_id), consistent_read=True)
        except self._products.DoesNotExist:
            return None
        return stored_version(item)

    def delete(self, shop_id: str, product_id: str) -> None:
        item = self._products(pk=shop_key(shop_id), sk=product_key(product_id))
        try:
            item.delete(condition=self._products.pk.exists())
        except DeleteError as exc:
            raise ProductNotFound(product_id) from exc

    def list(
        self,
        shop_id: str,
        limit: int,
        cursor: str | None,
        availability: str | None = None,
        category: str | None = None,
    ) -> Page[Product]:
        partition = ("pk", shop_key(shop_id))
        start = decode_cursor(cursor, partition, _PRODUCT_KEYS)
        products = self._products
        condition = None
        if availability is not None:
            condition = products.availability == availability
        if category is not None:
            by_category = products.category == category
            condition = by_category if condition is None else condition & by_category
        # One more than asked for: a next page is promised only when there is something on it.
        results = list(
            products.query(
                partition[1],
                products.sk.startswith("PRODUCT#"),
                filter_condition=condition,
                limit=limit + 1,
                last_evaluated_key=start,
            )
        )
        page = results[:limit]
        next_cursor = cursor_after({"pk": page[-1].pk, "sk": page[-1].sk}) if len(results) > limit else None
        return Page[Product](items=[stored_version(item).product for item in page], next_cursor=next_cursor)

    def get_many(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, StoredVersion]:
        """Consistent BatchGetItem reads, 100 keys to a call (the calls made concurrently), through the
        models' own connection; each item read from its attribute values (see :meth:`stored_from_raw`)."""
        ids = list(dict.fromkeys(product_ids))  # BatchGetItem refuses a key asked for twice
        chunks = [ids[i : i + _BATCH_GET_LIMIT] for i in range(0, len(ids), _BATCH_GET_LIMIT)]
        found: dict[str, StoredVersion] = {}
        read = map_in_context(lambda chunk: self._read_chunk(shop_id, chunk), chunks, _WRITE_CONCURRENCY)
        for stored in read:
            found.update(stored)
        return found

    def _read_chunk(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, StoredVersion]:
        """One BatchGetItem; what DynamoDB leaves unprocessed is asked for again, after a backoff that
        grows, until it is answered."""
        connection = self._products._get_connection()
        table = self._products.Meta.table_name
        keys = [{"pk": {"S": shop_key(shop_id)}, "sk": {"S": product_key(pid)}} for pid in product_ids]
        found: dict[str, StoredVersion] = {}
        attempt = 0
        while keys:
            if attempt:
                time.sleep(min(_UNPROCESSED_BACKOFF_S * 2 ** (attempt - 1), 1.0))
            data = connection.batch_get_item(keys, consistent_read=True)
            for raw in (data.get("Responses") or {}).get(table, []):
                stored = self.stored_from_raw(raw)
                found[stored.product.id] = stored
            keys = ((data.get("UnprocessedKeys") or {}).get(table) or {}).get("Keys") or []
            attempt += 1
        return found

    def stored_from_raw(self, raw: dict[str, Any]) -> StoredVersion:
        """:func:`stored_version` of a product item as DynamoDB's attribute values: each value read by
        the model's own attribute, without building a model instance (most of a read's time)."""
        model = self._products
        values = {
            name: attribute.deserialize(attribute.get_value(raw[attribute.attr_name]))
            for name, attribute in model.get_attributes().items()
            if raw.get(attribute.attr_name) and "NULL" not in raw[attribute.attr_name]
        }
        images = values.get("images")
        item = _RawProduct(
            pk=values["pk"],
            sk=values["sk"],
            retailer_id=values["retailer_id"],
            fields=values.get("fields"),
            images=images if images is not None else {},
            content_hash=values["content_hash"],
            version=values["version"],
            inventory=values.get("inventory"),
            created_at=values["created_at"],
            updated_at=values["updated_at"],
        )
        return stored_version(item)  # type: ignore[arg-type]

    def create_many(self, writes: Sequence[ProductWrite]) -> None:
        """Store products that did not exist when the caller looked, 25 to a request.

        Unconditional, for speed on large new catalogs (BatchWriteItem takes no conditions): a
        product created through the API in the moment between the caller's look and this write is
        replaced by the caller's version, which is the same product (the same retailer_id) as of a
        moment later. Changes to existing products go through :meth:`write_each`, conditionally.

        The items are built as DynamoDB's attribute values directly, the same ones the pynamodb
        model serialises (a test holds the two equal): building and serialising a model instance
        per product was a third of an import's own time.
        """
        self._batch_write([plain_item(write.product, write.content_hash) for write in writes])

    def _batch_write(self, puts: Sequence[dict[str, Any]], deletes: Sequence[dict[str, Any]] = ()) -> None:
        """Items (and keys to delete) as DynamoDB's attribute values, 25 to a BatchWriteItem, the calls
        made concurrently: each waits on DynamoDB's answer, and the next one is built meanwhile."""
        requests = [(PUT_REQUEST, item) for item in puts] + [(DELETE_REQUEST, key) for key in deletes]
        chunks = [requests[i : i + _BATCH_WRITE_LIMIT] for i in range(0, len(requests), _BATCH_WRITE_LIMIT)]
        map_in_context(self._write_chunk, chunks, _WRITE_CONCURRENCY)

    def _write_chunk(self, chunk: list[tuple[str, dict[str, Any]]]) -> None:
        """One BatchWriteItem through the models' own connection (as their batch writer sends it; its
        client skips botocore's parameter validation, which walked every attribute again). What
        DynamoDB leaves unprocessed is sent again after a short backoff, as often as the models
        retry, and then fails the write."""
        connection = self._products._get_connection()
        table = self._products.Meta.table_name
        pending = chunk
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                time.sleep(_UNPROCESSED_BACKOFF_S * 2 ** (attempt - 1))
            response = connection.batch_write_item(
                put_items=[value for kind, value in pending if kind == PUT_REQUEST],
                delete_items=[value for kind, value in pending if kind == DELETE_REQUEST],
            )
            unprocessed = ((response or {}).get("UnprocessedItems") or {}).get(table) or []
            pending = [
                (PUT_REQUEST, r[PUT_REQUEST]["Item"])
                if PUT_REQUEST in r
                else (DELETE_REQUEST, r[DELETE_REQUEST]["Key"])
                for r in unprocessed
            ]
            if not pending:
                return
        raise PutError("Failed to batch write items: max_retry_attempts exceeded")

    def write_each(self, writes: Sequence[ProductWrite]) -> list[ProductWrite]:
        """Conditionally write each product, concurrently; returns the writes whose condition failed.

        One conditional PutItem per product rather than a transaction per batch: the rows of a feed
        are independent, and this keeps a 100,000-row import linear (the local emulator copies a
        whole table for every transaction).
        """
        if not writes:
            return []
        outcomes = map_in_context(self._write_one, writes, _WRITE_CONCURRENCY)
        return [write for write, ok in zip(writes, outcomes, strict=True) if not ok]

    def _write_one(self, write: ProductWrite) -> bool:
        products = self._products
        if write.expected_version is None:
            condition = products.pk.does_not_exist()
        else:
            condition = products.version == write.expected_version
        try:
            self._item(write.product, write.content_hash).save(condition=condition)
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def add_image(self, shop_id: str, product_id: str, image: ProductImage) -> None:
        products = self._products
        item = products(pk=shop_key(shop_id), sk=product_key(product_id))
        try:
            # A map keyed by image id: recording the same upload twice is harmless.
            item.update(
                actions=[products.images[image.id].set({"content_type": image.content_type})],
                condition=products.pk.exists(),
            )
        except UpdateError as exc:
            raise ProductNotFound(product_id) from exc

    def record_image_index(self, shop_id: str, product_id: str, image: ProductImage) -> bool:
        """Store an image's index status on its product; False if the product or image is gone."""
        products = self._products
        item = products(pk=shop_key(shop_id), sk=product_key(product_id))
        try:
            item.update(
                actions=[products.images[image.id].set(_image_attributes(image))],
                condition=products.pk.exists() & products.images[image.id].exists(),
            )
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_listed(self, keys: Sequence[tuple[str, str]]) -> Listed:
        """Products by (shop id, product id) and their live shops, in batched reads (search results)."""
        table = self._products.Meta.table_name
        shop_ids = list(dict.fromkeys(shop_id for shop_id, _ in keys))
        wanted = [{"pk": {"S": shop_key(sid)}, "sk": {"S": "PROFILE"}} for sid in shop_ids]
        wanted += [
            {"pk": {"S": shop_key(sid)}, "sk": {"S": product_key(pid)}} for sid, pid in dict.fromkeys(keys)
        ]
        client = aws.client("dynamodb", self._settings)
        shops_model = bind(self._settings).shops
        listed = Listed(shops={}, products={})
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {table: {"Keys": wanted[start : start + _BATCH_GET_LIMIT]}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(table, []):
                    if raw["sk"]["S"] == "PROFILE":
                        shop_item = shops_model.from_raw_data(raw)
                        if not shop_item.deleted:
                            shop = to_shop(shop_item)
                            listed.shops[shop.id] = shop
                    else:
                        product = self.stored_from_raw(raw).product
                        listed.products[product.id] = product
                request = response.get("UnprocessedKeys") or {}
        return listed

    def get_index_state(self, shop_id: str, product_id: str) -> IndexState | None:
        try:
            item = self._index_states.get(
                index_state_key(shop_id), product_key(product_id), consistent_read=True
            )
        except self._index_states.DoesNotExist:
            return None
        return _index_state(item)

    def get_with_index_states(
        self, keys: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], StoredVersion], dict[tuple[str, str], IndexState]]:
        """Products and their index states by (shop id, product id), read together in batched,
        consistent reads (the indexer's batch): what is missing is absent from the answer."""
        table = self._products.Meta.table_name
        wanted: list[dict[str, Any]] = []
        for shop_id, product_id in dict.fromkeys(keys):
            wanted.append({"pk": {"S": shop_key(shop_id)}, "sk": {"S": product_key(product_id)}})
            wanted.append({"pk": {"S": index_state_key(shop_id)}, "sk": {"S": product_key(product_id)}})
        client = aws.client("dynamodb", self._settings)
        products: dict[tuple[str, str], StoredVersion] = {}
        states: dict[tuple[str, str], IndexState] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                table: {"Keys": wanted[start : start + _BATCH_GET_LIMIT], "ConsistentRead": True}
            }
            while request:
                response = client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(table, []):
                    if raw["pk"]["S"].startswith("INDEXSTATE#"):
                        state = _index_state(self._index_states.from_raw_data(raw))
                        states[(state.shop_id, state.product_id)] = state
                    else:
                        stored = self.stored_from_raw(raw)
                        products[(stored.product.shop_id, stored.product.id)] = stored
                request = response.get("UnprocessedKeys") or {}
        return products, states

    def put_index_state(self, state: IndexState) -> None:
        self._index_state_item(state, datetime.now(UTC)).save()

    def write_index_states(self, puts: Sequence[IndexState], deletes: Sequence[tuple[str, str]]) -> None:
        """Store ``puts`` and remove the states of ``deletes`` (shop id, product id), 25 to a request
        (each key once): the same unconditional writes as one put or delete each, in a few calls."""
        now = datetime.now(UTC)
        self._batch_write(
            [self._index_state_item(state, now).serialize() for state in puts],
            [
                {"pk": {"S": index_state_key(shop_id)}, "sk": {"S": product_key(pid)}}
                for shop_id, pid in deletes
            ],
        )

    def _index_state_item(self, state: IndexState, now: datetime) -> IndexStateItem:
        return self._index_states(
            pk=index_state_key(state.shop_id),
            sk=product_key(state.product_id),
            text_hash=state.text_hash,
            images=dict(state.images),
            country=state.country,
            updated_at=now,
        )

    def delete_index_state(self, shop_id: str, product_id: str) -> None:
        self._index_states(pk=index_state_key(shop_id), sk=product_key(product_id)).delete()

    def _item(self, product: Product, content_hash: str) -> ProductItem:
        fields = product.model_dump(mode="json", exclude=_NOT_FIELDS)
        return self._products(
            pk=shop_key(product.shop_id),
            sk=product_key(product.id),
            retailer_id=product.retailer_id,
            availability=product.availability,
            category=product.category,
            fields=fields,
            images={image.id: _image_attributes(image) for image in product.images},
            content_hash=content_hash,
            version=product.version,
            inventory=product.inventory,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )

    # --- stock, as orders take and give it back (items of one TransactWriteItems each) ----------

    @property
    def table_name(self) -> str:
        return self._products.Meta.table_name

    def stock_take(self, product: Product, quantity: int) -> dict[str, Any]:
        """Take ``quantity`` from a product that counts its stock, only if that much is left and it is
        still orderable. The version moves on, so a merchant's change made on what they read before
        (an ETag) cannot write the old count back. A product stored before the count had its own
        attribute starts from the count its fields hold."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _product_key_values(product.shop_id, product.id),
                "UpdateExpression": "SET #inv = if_not_exists(#inv, :initial) - :q, #v = #v + :one",
                "ConditionExpression": "attribute_exists(pk) AND (#inv >= :q OR attribute_not_exists(#inv))"
                " AND #av IN (:a0, :a1, :a2)",
                "ExpressionAttributeNames": {"#inv": "inventory", "#v": "version", "#av": "availability"},
                "ExpressionAttributeValues": {
                    ":q": {"N": str(quantity)},
                    ":initial": {"N": str(product.inventory or 0)},
                    ":one": {"N": "1"},
                    **_ORDERABLE_VALUES,
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def stock_check(self, product: Product) -> dict[str, Any]:
        """A product that counts no stock: only checked to exist, still count none and be orderable."""
        return {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": _product_key_values(product.shop_id, product.id),
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#inv)"
                " AND #av IN (:a0, :a1, :a2)",
                "ExpressionAttributeNames": {"#inv": "inventory", "#av": "availability"},
                "ExpressionAttributeValues": dict(_ORDERABLE_VALUES),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def stock_return(self, shop_id: str, product_id: str, quantity: int) -> dict[str, Any]:
        """Give ``quantity`` back to a product that still counts its stock (one that no longer does,
        or is gone, fails the condition: the caller leaves it out)."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _product_key_values(shop_id, product_id),
                "UpdateExpression": "SET #inv = #inv + :q, #v = #v + :one",
                "ConditionExpression": "attribute_exists(#inv)",
                "ExpressionAttributeNames": {"#inv": "inventory", "#v": "version"},
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}, ":one": {"N": "1"}},
            }
        }


# Availabilities an order may take (chatshop.orders.pricing.ORDERABLE says the same to customers).
_ORDERABLE_VALUES = {":a0": {"S": "in stock"}, ":a1": {"S": "preorder"}, ":a2": {"S": "available for order"}}


def _product_key_values(shop_id: str, product_id: str) -> dict[str, Any]:
    return {"pk": {"S": shop_key(shop_id)}, "sk": {"S": product_key(product_id)}}


def plain_item(product: Product, content_hash: str) -> dict[str, Any]:
    """A product as DynamoDB's attribute values: what ``ProductItem`` serialises for it."""
    item: dict[str, Any] = {
        "pk": {"S": shop_key(product.shop_id)},
        "sk": {"S": product_key(product.id)},
        "retailer_id": {"S": product.retailer_id},
        "availability": {"S": product.availability},
        "fields": {"S": json.dumps(product.model_dump(mode="json", exclude=_NOT_FIELDS))},
        "images": {
            "M": {
                image.id: {"M": {name: {"S": value} for name, value in _image_attributes(image).items()}}
                for image in product.images
            }
        },
        "content_hash": {"S": content_hash},
        "version": {"N": json.dumps(product.version)},
        "created_at": {"S": _timestamp(product.created_at)},
        "updated_at": {"S": _timestamp(product.updated_at)},
    }
    if product.category is not None:
        item["category"] = {"S": product.category}
    if product.inventory is not None:
        item["inventory"] = {"N": str(product.inventory)}
    return item


@functools.lru_cache(maxsize=64)
def _timestamp(moment: datetime) -> str:
    # As pynamodb writes it: UTC, microseconds, and years under 1000 padded whatever strftime does.
    # Cached: a batch of new products shares one moment, created and updated.
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT).zfill(31)


@dataclass(frozen=True)
class _RawProduct:
    """The attributes of a product item that :func:`stored_version` reads, as the model gives them."""

    pk: str
    sk: str
    retailer_id: str
    fields: Any
    images: Any
    content_hash: str
    version: Any
    created_at: datetime
    updated_at: datetime
    inventory: Any = None


def stored_version(item: ProductItem) -> StoredVersion:
    images = [
        ProductImage(
            id=image_id,
            content_type=image["content_type"],
            index_status=image.get("index_status") or "pending",
            index_error=image.get("index_error"),
        )
        for image_id, image in sorted(_as_dict(item.images).items())
    ]
    product = Product(
        id=item.sk.removeprefix("PRODUCT#"),
        shop_id=item.pk.removeprefix("SHOP#"),
        retailer_id=item.retailer_id,
        images=images,
        version=int(item.version),
        created_at=item.created_at.astimezone(UTC),
        updated_at=item.updated_at.astimezone(UTC),
        **_fields(item.fields, item.inventory),
    )
    return StoredVersion(version=int(item.version), content_hash=item.content_hash, product=product)


def _index_state(item: IndexStateItem) -> IndexState:
    return IndexState(
        shop_id=item.pk.removeprefix("INDEXSTATE#"),
        product_id=item.sk.removeprefix("PRODUCT#"),
        country=item.country,
        text_hash=item.text_hash,
        images={key: str(value) for key, value in _as_dict(item.images).items()},
    )


def _image_attributes(image: ProductImage) -> dict[str, str]:
    attributes = {"content_type": image.content_type}
    if image.index_status != "pending":
        attributes["index_status"] = image.index_status
    if image.index_error:
        attributes["index_error"] = image.index_error
    return attributes


def _condition_failed(exc: PutError) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)


def _fields(fields: dict[str, Any], inventory: Any) -> dict[str, Any]:
    values = dict(fields or {})
    # The live count, which orders move, over the count last written with the fields.
    if inventory is not None:
        values["inventory"] = int(inventory)
    return values
