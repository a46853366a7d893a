"""The vector indexes search and the indexer use, whichever backend the settings choose.

* ``ann``: HNSW snapshots in the search index bucket, one per space for the region and one per
  space and shop. Queries read a cached snapshot that is re-read when its ETag changes; the
  indexer's changes go to the shop's snapshot and to the region's, each a conditional write
  retried on a conflict, so concurrent indexers never lose an update.
* ``s3vectors``: one S3 Vectors index per space for the region; a shop is a filter on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.search.snapshots import DEFAULT_CHECK_EVERY_S, BlobStore, SnapshotStore
from chatshop.search.vectors import VectorIndex, VectorRecord

__all__ = ["SearchIndexes"]


class SearchIndexes:
    """The ``image`` and ``text`` indexes of one region. Keep one per container: it caches."""

    def __init__(
        self,
        settings: Settings,
        region: str,
        dimensions: dict[str, int],
        *,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = settings.search_backend
        self.region = region
        self.dimensions = dict(dimensions)
        if self.backend == "ann":
            blobs = BlobStore(aws.client("s3", settings), settings.require("search_index_bucket"))
            self._snapshots = SnapshotStore(
                blobs, region, self.dimensions, check_every_s=check_every_s, clock=clock
            )
        else:
            from chatshop.search.s3vectors import S3VectorsIndex, index_name

            client = aws.client("s3vectors", settings)
            bucket = settings.require("vector_bucket")
            self._vectors = {
                space: S3VectorsIndex(client, bucket, index_name(region, space), dims)
                for space, dims in self.dimensions.items()
            }

    def for_query(self, space: str, shop_id: str | None) -> VectorIndex:
        """The index to query: the shop's own where ``shop_id`` is given, else the region's.

        Read-only: changes go through :meth:`apply`.
        """
        self._check_space(space)
        if self.backend == "ann":
            return self._snapshots.index(space, shop_id)
        return self._vectors[space].scoped(shop_id)

    def apply(
        self, space: str, shop_id: str, upserts: Sequence[VectorRecord], deletes: Sequence[str]
    ) -> None:
        """Add or replace ``upserts`` and remove ``deletes`` (product ids) of one shop."""
        self._check_space(space)
        strays = {record.key for record in upserts if record.metadata.shop_id != shop_id}
        if strays:
            raise ValueError(f"records of another shop than {shop_id}: {sorted(strays)[:5]}")
        if not upserts and not deletes:
            return
        if self.backend == "ann":
            self._snapshots.update(space, shop_id, upserts, deletes)
            self._snapshots.update(space, None, upserts, deletes)
        else:
            index = self._vectors[space]
            upserted = {record.key for record in upserts}
            index.delete([key for key in deletes if key not in upserted])
            index.upsert(upserts)

    def _check_space(self, space: str) -> None:
        if space not in self.dimensions:
            raise ValueError(f"unknown index space {space!r}; known: {sorted(self.dimensions)}")
