"""The Amazon S3 Vectors backend: one vector index per space and region in a vector bucket, for
catalogs that outgrow the memory of one function.

Every vector carries ``shop_id``, ``country`` and ``in_stock`` as filterable metadata, so a shop's
search is the region's index queried with a shop filter. The index uses the cosine distance,
which S3 Vectors reports as ``1 - cosine similarity``; scores here are the similarity.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from chatshop.search.vectors import Vector, VectorFilter, VectorHit, VectorMetadata, VectorRecord, unit_vector

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = ["BATCH_SIZE", "MAX_TOP_K", "S3VectorsIndex", "index_name", "metadata_filter"]

BATCH_SIZE = 500  # PutVectors and DeleteVectors take at most 500 vectors or keys per call
MAX_TOP_K = 100  # QueryVectors' documented ceiling
# Metadata kept with each vector but never filtered on: none yet. Every filterable key counts
# against the per-vector filterable-metadata budget, so anything for display only belongs here.
NON_FILTERABLE_KEYS: tuple[str, ...] = ()
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def index_name(region: str, space: str) -> str:
    name = f"products-{space}-{region}".lower()
    if not _INDEX_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid S3 Vectors index name")
    return name


def metadata_filter(where: VectorFilter) -> dict[str, Any] | None:
    """``where`` in S3 Vectors' filter syntax (``$eq`` terms joined by ``$and``); None: no filter."""
    terms: list[dict[str, Any]] = []
    if where.shop_id is not None:
        terms.append({"shop_id": {"$eq": where.shop_id}})
    if where.country is not None:
        terms.append({"country": {"$eq": where.country}})
    if where.in_stock_only:
        terms.append({"in_stock": {"$eq": True}})
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _batches(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), BATCH_SIZE):
        yield items[start : start + BATCH_SIZE]


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3VectorsIndex:
    """A :class:`~chatshop.search.vectors.VectorIndex` over one S3 Vectors index.

    ``shop_id`` scopes every query to one shop (the same index, filtered). The index is created on
    the first write if it does not exist; a query of a missing index answers [].
    """

    def __init__(
        self,
        client: BaseClient,
        bucket: str,
        name: str,
        dimensions: int,
        *,
        shop_id: str | None = None,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.name = name
        self._dimensions = dimensions
        self.shop_id = shop_id
        self._ready = False
        self._lock = threading.Lock()

    def scoped(self, shop_id: str | None) -> S3VectorsIndex:
        """The same index, its queries limited to one shop."""
        index = S3VectorsIndex(self._client, self.bucket, self.name, self._dimensions, shop_id=shop_id)
        index._ready = self._ready
        return index

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def ensure_exists(self) -> None:
        """Create the index (cosine, float32) unless it exists; check an existing one's dimensions."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            from botocore.exceptions import ClientError

            try:
                found = self._client.get_index(vectorBucketName=self.bucket, indexName=self.name)["index"]
            except ClientError as error:
                if _error_code(error) != "NotFoundException":
                    raise
                found = None
            if found is None:
                self._create()
            elif int(found["dimension"]) != self._dimensions or found["distanceMetric"] != "cosine":
                raise ValueError(
                    f"S3 Vectors index {self.name} holds {found['dimension']}-d {found['distanceMetric']} "
                    f"vectors; this model needs {self._dimensions}-d cosine: re-create it and re-index"
                )
            self._ready = True

    def _create(self) -> None:
        from botocore.exceptions import ClientError

        options: dict[str, Any] = {}
        if NON_FILTERABLE_KEYS:
            options["metadataConfiguration"] = {"nonFilterableMetadataKeys": list(NON_FILTERABLE_KEYS)}
        try:
            self._client.create_index(
                vectorBucketName=self.bucket,
                indexName=self.name,
                dataType="float32",
                dimension=self._dimensions,
                distanceMetric="cosine",
                **options,
            )
        except ClientError as error:
            if _error_code(error) != "ConflictException":  # created by another writer meanwhile
                raise

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        latest = list({record.key: record for record in records}.values())
        if not latest:
            return
        vectors = [self._vector_entry(record) for record in latest]
        self.ensure_exists()
        for batch in _batches(vectors):
            self._client.put_vectors(vectorBucketName=self.bucket, indexName=self.name, vectors=list(batch))

    def delete(self, keys: Sequence[str]) -> None:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return
        self.ensure_exists()
        for batch in _batches(unique):
            self._client.delete_vectors(vectorBucketName=self.bucket, indexName=self.name, keys=list(batch))

    def query(self, vector: Vector, limit: int, where: VectorFilter | None = None) -> list[VectorHit]:
        from botocore.exceptions import ClientError

        query = self._unit(vector)
        scope = self._scope(where or VectorFilter())
        if limit < 1 or scope is None:
            return []
        request: dict[str, Any] = {
            "vectorBucketName": self.bucket,
            "indexName": self.name,
            "queryVector": {"float32": query.tolist()},
            "topK": min(limit, MAX_TOP_K),
            "returnMetadata": True,
            "returnDistance": True,
        }
        expression = metadata_filter(scope)
        if expression is not None:
            request["filter"] = expression
        try:
            response = self._client.query_vectors(**request)
        except ClientError as error:
            if _error_code(error) == "NotFoundException":  # nothing indexed yet
                return []
            raise
        metric = response.get("distanceMetric", "cosine")
        hits = [self._hit(found, metric) for found in response.get("vectors", [])]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:limit]

    def __len__(self) -> int:
        """Pages through every key (S3 Vectors keeps no count): for tests and diagnostics only."""
        from botocore.exceptions import ClientError

        total = 0
        options: dict[str, Any] = {"vectorBucketName": self.bucket, "indexName": self.name}
        try:
            while True:
                page = self._client.list_vectors(**options)
                total += len(page.get("vectors", []))
                token = page.get("nextToken")
                if not token:
                    return total
                options["nextToken"] = token
        except ClientError as error:
            if _error_code(error) == "NotFoundException":
                return 0
            raise

    # --- internals ------------------------------------------------------------------------------

    def _scope(self, where: VectorFilter) -> VectorFilter | None:
        """``where`` within this index's shop; None when the two exclude each other."""
        if self.shop_id is None:
            return where
        if where.shop_id not in (None, self.shop_id):
            return None
        return VectorFilter(shop_id=self.shop_id, country=where.country, in_stock_only=where.in_stock_only)

    def _unit(self, vector: Vector) -> np.ndarray:
        return unit_vector(vector, self._dimensions)

    def _vector_entry(self, record: VectorRecord) -> dict[str, Any]:
        meta = record.metadata
        return {
            "key": record.key,
            "data": {"float32": self._unit(record.vector).tolist()},
            "metadata": {"shop_id": meta.shop_id, "country": meta.country, "in_stock": bool(meta.in_stock)},
        }

    @staticmethod
    def _hit(found: dict[str, Any], metric: str) -> VectorHit:
        distance = float(found.get("distance", 0.0))
        # Cosine: distance = 1 - similarity. Euclidean between unit vectors: d^2 = 2 - 2 similarity.
        score = 1.0 - distance if metric == "cosine" else 1.0 - distance * distance / 2.0
        meta = found.get("metadata") or {}
        return VectorHit(
            key=found["key"],
            score=score,
            metadata=VectorMetadata(
                shop_id=str(meta.get("shop_id", "")),
                country=str(meta.get("country", "")),
                in_stock=bool(meta.get("in_stock", False)),
            ),
        )
