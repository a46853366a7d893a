"""The shops table's item types as pynamodb models (data access only; logic never sees these).

Single-table layout, keys designed from the access patterns:

- merchant: ``pk=MERCHANT#<id>``, ``sk=PROFILE``
- API key: ``pk=APIKEY#<sha256 of the key>``, ``sk=APIKEY``
- shop: ``pk=SHOP#<id>``, ``sk=PROFILE``; by merchant on gsi1
  (``MERCHANT#<id>`` / ``SHOP#<created>#<id>``); active shops by country on gsi2, a sparse index
  (``COUNTRY#<cc>`` / ``SHOP#<created>#<id>``)
- product: ``pk=SHOP#<id>``, ``sk=PRODUCT#<product id>`` (a shop's catalog is one partition)
- catalog import: ``pk=SHOP#<id>``, ``sk=IMPORT#<import id>``
- search index state of a product: ``pk=INDEXSTATE#<shop id>``, ``sk=PRODUCT#<product id>``

A product id is derived from the shop and the retailer_id, so the key itself makes retailer_id
unique in a shop and a feed row finds its product with a batch get.

Table names come from the function's settings at run time, so models are bound to a table by
:func:`bind` rather than declared with a fixed ``Meta.table_name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chatshop.platform.aws import CONNECT_TIMEOUT_S, MAX_ATTEMPTS, READ_TIMEOUT_S
from chatshop.platform.config import Settings

# Kept after pynamodb's models: pynamodb.connection imported before them made botocore's import (the
# regular expressions it compiles) ~10 ms slower in the shops API's cold start; measured, cause not found.
from chatshop.platform.dynamodb import OneLoaderConnection


class _Item(Model):
    class Meta:
        abstract = True

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MerchantItem(_Item):
    class Meta:
        abstract = True

    name = UnicodeAttribute()
    email = UnicodeAttribute()
    api_key_hash = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ApiKeyItem(_Item):
    class Meta:
        abstract = True

    merchant_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class _ByMerchant(GlobalSecondaryIndex):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class _ByCountry(GlobalSecondaryIndex):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ShopItem(_Item):
    class Meta:
        abstract = True

    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    country = UnicodeAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute()
    timezone = UnicodeAttribute()
    # Absent on shops stored before the field existed, and on shops that never chose one.
    language = UnicodeAttribute(null=True)
    # Absent on shops stored before recruiting: the defaults of chatshop.shops.domain.Shop.
    attribution_window_days = NumberAttribute(null=True)
    marketing_interval_hours = NumberAttribute(null=True)
    # Orders' settings; absent on shops stored before orders: the defaults of the domain's Shop.
    payment = UnicodeAttribute(null=True)
    payment_link = UnicodeAttribute(null=True)
    reservation_minutes = NumberAttribute(null=True)
    # The chat's cart reminder; absent on shops stored before it: the domain's default.
    cart_reminder_hours = NumberAttribute(null=True)
    templates = JSONAttribute(null=True)
    deleted = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class ProductItem(_Item):
    class Meta:
        abstract = True

    retailer_id = UnicodeAttribute()
    # Copied out of ``fields`` so lists can filter on them.
    availability = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    # The catalog fields as the API shows them; prices stay integers in minor units.
    fields = JSONAttribute()
    # Keyed by image id, so recording the same upload twice changes nothing.
    images = MapAttribute(default=dict)
    content_hash = UnicodeAttribute()
    version = NumberAttribute()
    # The live stock count, out of ``fields`` so an order can take from it with a conditional write
    # (``inventory >= :q``); absent on a product that counts no stock (unlimited).
    inventory = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class ImportItem(_Item):
    class Meta:
        abstract = True

    status = UnicodeAttribute()
    source_key = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute()
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    rejected = JSONAttribute(default=list)
    rejected_count = NumberAttribute(default=0)
    rejected_key = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)


class IndexStateItem(_Item):
    """What the search indexer embedded for one product: ``pk=INDEXSTATE#<shop id>``,
    ``sk=PRODUCT#<product id>``. Outside the shop's partition on purpose: it must outlive the
    product (and a closed shop's purge) until the indexer has removed the product's vectors."""

    class Meta:
        abstract = True

    text_hash = UnicodeAttribute(null=True)
    # image id -> "indexed", or the code it was rejected with.
    images = MapAttribute(default=dict)
    country = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


@dataclass(frozen=True)
class ShopsTable:
    merchants: type[MerchantItem]
    api_keys: type[ApiKeyItem]
    shops: type[ShopItem]
    products: type[ProductItem]
    imports: type[ImportItem]
    index_states: type[IndexStateItem]


def bind(settings: Settings) -> ShopsTable:
    """Concrete models of every item type, bound to the function's shops table."""
    return _bind(settings.require("shops_table"), settings.region)


@lru_cache(maxsize=8)
def _bind(table_name: str, region: str) -> ShopsTable:
    connection = {
        "region": region,
        "connect_timeout_seconds": CONNECT_TIMEOUT_S,
        "read_timeout_seconds": READ_TIMEOUT_S,
        "max_retry_attempts": MAX_ATTEMPTS - 1,
    }

    def concrete(base: type[_Item], **indexes: GlobalSecondaryIndex) -> type:
        meta = type("Meta", (), {"table_name": table_name, **connection})
        return type(base.__name__, (base,), {"Meta": meta, **indexes})

    table = ShopsTable(
        merchants=concrete(MerchantItem),
        api_keys=concrete(ApiKeyItem),
        shops=concrete(ShopItem, by_merchant=_ByMerchant(), by_country=_ByCountry()),
        products=concrete(ProductItem),
        imports=concrete(ImportItem),
        index_states=concrete(IndexStateItem),
    )
    _share_connection(table, connection)
    return table


def _share_connection(table: ShopsTable, connection: dict[str, Any]) -> None:
    """One connection for every item type of the table, so one botocore client for them all.

    pynamodb makes a model class its own connection on first use (a botocore session and client,
    DynamoDB's service model parsed again: ~80 ms of CPU each, three of them in a shop's first GET)
    unless the class already holds one for its table, as a model inheriting a concrete model does.
    The connection is made here (no client yet: that waits for the first call) from the shops
    model, which declares every index of the table, so its schema is the table's own, and it talks
    to DynamoDB through a connection whose botocore session reads our other clients' loader.
    """
    shared = table.shops._get_connection()
    one_loader = OneLoaderConnection(**connection)
    one_loader.add_meta_table(shared.get_meta_table())
    shared.connection = one_loader
    for model in (table.merchants, table.api_keys, table.products, table.imports, table.index_states):
        model._connection = shared
