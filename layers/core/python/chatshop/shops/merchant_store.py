"""Data access for merchants and their API keys (see ``tables`` for the layout).

The key itself is never stored: its SHA-256 is the key item's partition key, so authentication is
one GetItem. Sign-up and rotation are transactions: never a merchant without a key, never two
live keys, never a key without its merchant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chatshop.platform.config import Settings

from .domain import Merchant
from .tables import MerchantItem, bind

_PROFILE = "PROFILE"
_APIKEY = "APIKEY"


class DuplicateMerchant(Exception):
    pass


class ConcurrentRotation(Exception):
    pass


def _merchant_key(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


def _api_key_key(api_key_hash: str) -> str:
    return f"APIKEY#{api_key_hash}"


class MerchantStore:
    def __init__(self, settings: Settings) -> None:
        self._table = bind(settings)
        # Which table this store reads, so caches of its answers never mix two tables.
        self.identity = (settings.require("shops_table"), settings.region)

    def _transaction(self) -> TransactWrite:
        # Through the table's own connection: its client, timeouts and retries, not a new client
        # (with pynamodb's default timeouts) for each sign-up or rotation.
        return TransactWrite(connection=self._table.merchants._get_connection().connection)

    def create(self, merchant: Merchant, api_key_hash: str) -> None:
        profile = self._table.merchants(
            pk=_merchant_key(merchant.id),
            sk=_PROFILE,
            name=merchant.name,
            email=merchant.email,
            api_key_hash=api_key_hash,
            created_at=merchant.created_at,
        )
        key = self._table.api_keys(
            pk=_api_key_key(api_key_hash), sk=_APIKEY, merchant_id=merchant.id, created_at=merchant.created_at
        )
        try:
            with self._transaction() as transaction:
                transaction.save(profile, condition=self._table.merchants.pk.does_not_exist())
                transaction.save(key, condition=self._table.api_keys.pk.does_not_exist())
        except TransactWriteError as exc:
            raise DuplicateMerchant(merchant.id) from exc

    def rotate_key(self, merchant_id: str, old_hash: str, new_hash: str) -> None:
        """Swap the merchant's key in one transaction; fails if another rotation got there first."""
        merchants, api_keys = self._table.merchants, self._table.api_keys
        profile = merchants(pk=_merchant_key(merchant_id), sk=_PROFILE)
        new_key = api_keys(
            pk=_api_key_key(new_hash), sk=_APIKEY, merchant_id=merchant_id, created_at=datetime.now(UTC)
        )
        try:
            with self._transaction() as transaction:
                transaction.update(
                    profile,
                    actions=[merchants.api_key_hash.set(new_hash)],
                    condition=merchants.api_key_hash == old_hash,
                )
                transaction.delete(api_keys(pk=_api_key_key(old_hash), sk=_APIKEY))
                transaction.save(new_key, condition=api_keys.pk.does_not_exist())
        except TransactWriteError as exc:
            raise ConcurrentRotation(merchant_id) from exc

    def get(self, merchant_id: str) -> tuple[Merchant, str | None] | None:
        """The merchant and the hash of its current key."""
        try:
            item = self._table.merchants.get(_merchant_key(merchant_id), _PROFILE)
        except self._table.merchants.DoesNotExist:
            return None
        return _to_merchant(merchant_id, item), item.api_key_hash

    def merchant_id_for_key(self, api_key_hash: str) -> str | None:
        try:
            return self._table.api_keys.get(_api_key_key(api_key_hash), _APIKEY).merchant_id
        except self._table.api_keys.DoesNotExist:
            return None


def _to_merchant(merchant_id: str, item: MerchantItem) -> Merchant:
    return Merchant(
        id=merchant_id, name=item.name, email=item.email, created_at=item.created_at.astimezone(UTC)
    )
