"""DynamoDB's item writes made atomic in the embedded AWS, as they are on AWS.

DynamoDB applies each write (a conditional put, an ``ADD`` to a counter, a transaction) to its
items atomically. moto's server serves requests on threads and reads, checks and changes an item
with no lock, so two concurrent ``UpdateItem`` calls that ``ADD 1`` can both read version 7 and
both write 8, and two conditional puts can both pass their condition. One lock around moto's
writes makes each of them whole before the next begins; it is held only for the in-memory change.
Reads take no lock: they see an item before or after a write, as on AWS. The request handlers of
the writes that answer ``ReturnValues`` take the lock too: moto reads the old item before the write
and the new one after it, so another write landing between would be returned as this one's.

A transaction is also made cheap: moto backs up every table it touches with a deep copy, once per
item of the transaction, to roll back a cancelled one, so an order's transaction on a shop with
5,000 products copied the whole catalog three times. Here only the items the transaction names are
kept (and each stream's length), and put back as they were when it is cancelled; moto's own copy
of a table is made an identity.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)
# Request handlers that read an item around its write to answer ReturnValues.
RETURNING = ("put_item", "update_item", "delete_item")
_lock = threading.RLock()


def install_atomic_item_writes() -> None:
    if not getattr(DynamoDBBackend.transact_write_items, "_chatshop_item_backups", False):
        DynamoDBBackend.transact_write_items = _with_item_backups(DynamoDBBackend.transact_write_items)
        dynamodb_models.copy = _TablesNotCopied()  # type: ignore[assignment]
    for owner, names in ((DynamoDBBackend, WRITES), (DynamoHandler, RETURNING)):
        for name in names:
            original = getattr(owner, name)
            if not getattr(original, "_chatshop_atomic", False):
                setattr(owner, name, _atomic(original))


class _TablesNotCopied:
    """``copy`` as moto's DynamoDB models see it: a table is not copied (its transaction's items are
    kept instead, by :func:`_with_item_backups`); anything else is, as before."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _with_item_backups(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def transact_with_backups(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        backups: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        streams: dict[str, tuple[Any, int]] = {}
        for entry in transact_items:
            kind, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName", ""))
            key = op.get("Item") if kind == "Put" else op.get("Key")
            if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
                continue  # moto refuses it itself
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in key:
                    continue
                range_value = DynamoType(key[table.range_key_attr])
            backups.append(
                (table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
            )
            if table.stream_shard is not None and table.name not in streams:
                streams[table.name] = (table.stream_shard, len(table.stream_shard.items))
        try:
            return transact(self, transact_items)
        except Exception:
            # Cancelled: every item as it was, and no stream record of what never happened.
            for table, hash_value, range_value, item in reversed(backups):
                _put_back(table, hash_value, range_value, item)
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    transact_with_backups._chatshop_item_backups = True  # type: ignore[attr-defined]
    return transact_with_backups


def _put_back(table: Table, hash_value: DynamoType, range_value: DynamoType | None, item: Any) -> None:
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    if item is None:
        table.items.get(hash_value, {}).pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return write(self, *args, **kwargs)

    atomic._chatshop_atomic = True  # type: ignore[attr-defined]
    return atomic
