"""Data access for merchants and their API keys in the shops table (pynamodb).

Single-table layout: a merchant is ``pk=MERCHANT#<id>, sk=PROFILE``; each API key is its own item,
``pk=APIKEY#<sha256 of the key>, sk=APIKEY``, so authentication is one GetItem and the key itself is
never stored. Both are written in one transaction: no merchant without a key, no key without a merchant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .domain import Merchant

_PROFILE = "PROFILE"
_APIKEY = "APIKEY"


class DuplicateMerchant(Exception):
    pass


class _ShopsItem(Model):
    class Meta:
        abstract = True

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class _MerchantItem(_ShopsItem):
    class Meta:
        abstract = True

    name = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class _ApiKeyItem(_ShopsItem):
    class Meta:
        abstract = True

    merchant_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


@lru_cache(maxsize=8)
def _bound(table_name: str, region: str) -> tuple[type[_MerchantItem], type[_ApiKeyItem]]:
    """Models bound to one table; the name comes from the function's settings at run time."""
    meta = {"table_name": table_name, "region": region}
    merchant = type("MerchantItem", (_MerchantItem,), {"Meta": type("Meta", (), meta)})
    api_key = type("ApiKeyItem", (_ApiKeyItem,), {"Meta": type("Meta", (), meta)})
    return merchant, api_key


class MerchantStore:
    def __init__(self, table_name: str, region: str) -> None:
        self._region = region
        self._merchants, self._api_keys = _bound(table_name, region)

    def create(self, merchant: Merchant, api_key_hash: str) -> None:
        profile = self._merchants(
            pk=f"MERCHANT#{merchant.id}",
            sk=_PROFILE,
            name=merchant.name,
            email=merchant.email,
            created_at=merchant.created_at,
        )
        key = self._api_keys(
            pk=f"APIKEY#{api_key_hash}", sk=_APIKEY, merchant_id=merchant.id, created_at=merchant.created_at
        )
        try:
            with TransactWrite(connection=Connection(region=self._region)) as transaction:
                transaction.save(profile, condition=self._merchants.pk.does_not_exist())
                transaction.save(key, condition=self._api_keys.pk.does_not_exist())
        except TransactWriteError as exc:
            raise DuplicateMerchant(merchant.id) from exc

    def get(self, merchant_id: str) -> Merchant | None:
        try:
            item = self._merchants.get(f"MERCHANT#{merchant_id}", _PROFILE)
        except self._merchants.DoesNotExist:
            return None
        return Merchant(
            id=merchant_id,
            name=item.name,
            email=item.email,
            created_at=item.created_at.astimezone(UTC) if item.created_at else datetime.now(UTC),
        )

    def merchant_id_for_key(self, api_key_hash: str) -> str | None:
        try:
            return self._api_keys.get(f"APIKEY#{api_key_hash}", _APIKEY).merchant_id
        except self._api_keys.DoesNotExist:
            return None
