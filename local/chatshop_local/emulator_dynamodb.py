"""DynamoDB's item writes made atomic in the embedded AWS, as they are on AWS.

DynamoDB applies each write (a conditional put, an ``ADD`` to a counter, a transaction) to its
items atomically. moto's server serves requests on threads and reads, checks and changes an item
with no lock, so two concurrent ``UpdateItem`` calls that ``ADD 1`` can both read version 7 and
both write 8, and two conditional puts can both pass their condition. One lock around moto's
writes makes each of them whole before the next begins; it is held only for the in-memory change.
Reads take no lock: they see an item before or after a write, as on AWS.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

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
_lock = threading.RLock()


def install_atomic_item_writes() -> None:
    for name in WRITES:
        original = getattr(DynamoDBBackend, name)
        if not getattr(original, "_chatshop_atomic", False):
            setattr(DynamoDBBackend, name, _atomic(original))


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def atomic(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return write(self, *args, **kwargs)

    atomic._chatshop_atomic = True  # type: ignore[attr-defined]
    return atomic
