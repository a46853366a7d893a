"""Purging a closed shop: its catalog, its imports and its files, then the shop record itself.

Closing a shop hides it at once (see ``shops.close_shop``); this runs afterwards from a queue,
because a catalog of 100,000 products cannot be deleted within one API request. It can run any
number of times: each step deletes what is still there.
"""

from __future__ import annotations

from dataclasses import dataclass

from .media import MediaBucket
from .shop_store import ShopStore

FILE_PREFIXES = ("shops/{shop_id}/", "imports/{shop_id}/", "uploads/{shop_id}/")


@dataclass(frozen=True)
class Purged:
    items: int
    objects: int


def purge_closed_shop(shops: ShopStore, bucket: MediaBucket, shop_id: str) -> Purged | None:
    """What was removed; None when the shop is open: a stray message must never purge a live shop."""
    state = shops.state(shop_id)
    if state is None:
        return Purged(0, 0)
    if state == "open":
        return None
    items = shops.delete_contents(shop_id)
    objects = sum(bucket.delete_prefix(prefix.format(shop_id=shop_id)) for prefix in FILE_PREFIXES)
    shops.remove(shop_id)
    return Purged(items, objects)
