"""A small Amazon S3 Vectors on loopback, for the one call moto does not serve: QueryVectors.

It speaks the service's REST-JSON protocol (``POST /<Operation>``, JSON in and out, errors named
by the ``x-amzn-ErrorType`` header), so boto3's own ``s3vectors`` client talks to it unchanged:
point ``AWS_ENDPOINT_URL_S3VECTORS`` (or ``endpoint_url``) at :attr:`S3VectorsFake.url`.

Served: CreateVectorBucket, CreateIndex, GetIndex, DeleteIndex, PutVectors, GetVectors,
ListVectors, DeleteVectors and QueryVectors, holding everything in memory. QueryVectors answers as
documented: the ``topK`` nearest vectors accepted by ``filter``, nearest first, each with its
``key`` and, when asked, its ``distance`` (cosine: 1 - cosine similarity; euclidean: L2) and
``metadata``, plus the index's ``distanceMetric``. Filters take the documented operators:
``$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or`` and a bare value as ``$eq``.
Requests are not authenticated; signatures are ignored.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .emulator import LOOPBACK

ACCOUNT = "123456789012"
MAX_TOP_K = 100
MAX_BATCH = 500


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _validation(message: str) -> ServiceError:
    return ServiceError(400, "ValidationException", message)


def _not_found(message: str) -> ServiceError:
    return ServiceError(404, "NotFoundException", message)


@dataclass
class _Index:
    bucket: str
    name: str
    dimension: int
    metric: str
    created: datetime
    metadata_configuration: dict[str, Any] | None
    vectors: dict[str, tuple[list[float], dict[str, Any]]] = field(default_factory=dict)

    def describe(self, region: str) -> dict[str, Any]:
        described = {
            "vectorBucketName": self.bucket,
            "indexName": self.name,
            "indexArn": f"arn:aws:s3vectors:{region}:{ACCOUNT}:bucket/{self.bucket}/index/{self.name}",
            "creationTime": self.created.timestamp(),
            "dataType": "float32",
            "dimension": self.dimension,
            "distanceMetric": self.metric,
        }
        if self.metadata_configuration:
            described["metadataConfiguration"] = self.metadata_configuration
        return described


# --- filters --------------------------------------------------------------------------------------


def _compare(operator: str, actual: Any, expected: Any, present: bool) -> bool:
    if operator == "$exists":
        return present is bool(expected)
    if not present:
        return operator in ("$ne", "$nin")
    values = actual if isinstance(actual, list) else [actual]  # a list value matches any element
    if operator == "$eq":
        return expected in values
    if operator == "$ne":
        return expected not in values
    if operator == "$in":
        return any(value in expected for value in values)
    if operator == "$nin":
        return not any(value in expected for value in values)
    ordered = {"$gt": float.__gt__, "$gte": float.__ge__, "$lt": float.__lt__, "$lte": float.__le__}
    if operator in ordered:
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        return any(ordered[operator](float(v), float(expected)) for v in numbers)
    raise _validation(f"Unsupported filter operator: {operator}")


def matches(expression: Any, metadata: dict[str, Any]) -> bool:
    """Whether ``metadata`` passes a filter ``expression`` in the S3 Vectors syntax."""
    if not isinstance(expression, dict) or not expression:
        raise _validation("Invalid filter: expected a non-empty object")
    for name, condition in expression.items():
        if name in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise _validation(f"Invalid filter: {name} takes a non-empty list")
            results = [matches(part, metadata) for part in condition]
            if not (all(results) if name == "$and" else any(results)):
                return False
        elif name.startswith("$"):
            raise _validation(f"Unsupported filter operator: {name}")
        elif isinstance(condition, dict):
            if not condition:
                raise _validation(f"Invalid filter for key {name}")
            for operator, expected in condition.items():
                if not _compare(operator, metadata.get(name), expected, name in metadata):
                    return False
        elif not _compare("$eq", metadata.get(name), condition, name in metadata):
            return False
    return True


def _distance(metric: str, a: list[float], b: list[float]) -> float:
    if metric == "euclidean":
        return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - (dot / norms if norms else 0.0)


# --- the service ----------------------------------------------------------------------------------


class S3VectorsService:
    """The in-memory state and the operations, independent of HTTP."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.buckets: dict[str, dict[str, _Index]] = {}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self, "op_" + operation, None)
        if method is None:
            raise ServiceError(404, "UnknownOperationException", f"Unknown operation {operation}")
        with self._lock:
            self.calls.append(operation)
            return method(body)

    def _bucket(self, body: dict[str, Any]) -> dict[str, _Index]:
        name = body.get("vectorBucketName")
        if not name and body.get("indexArn"):
            name = body["indexArn"].split(":bucket/", 1)[-1].split("/index/", 1)[0]
        if name not in self.buckets:
            raise _not_found("The specified vector bucket could not be found")
        return self.buckets[name]

    def _index(self, body: dict[str, Any]) -> _Index:
        bucket = self._bucket(body)
        name = body.get("indexName") or str(body.get("indexArn", "")).rsplit("/index/", 1)[-1]
        if name not in bucket:
            raise _not_found("The specified index could not be found")
        return bucket[name]

    def op_CreateVectorBucket(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("vectorBucketName", "")
        if name in self.buckets:
            raise ServiceError(409, "ConflictException", "The specified vector bucket already exists")
        self.buckets[name] = {}
        return {}

    def op_CreateIndex(self, body: dict[str, Any]) -> dict[str, Any]:
        bucket = self._bucket(body)
        name = body.get("indexName", "")
        if name in bucket:
            raise ServiceError(409, "ConflictException", "The specified index already exists")
        if body.get("dataType") != "float32":
            raise _validation("dataType must be float32")
        if body.get("distanceMetric") not in ("cosine", "euclidean"):
            raise _validation("distanceMetric must be cosine or euclidean")
        dimension = body.get("dimension")
        if not isinstance(dimension, int) or not 1 <= dimension <= 4096:
            raise _validation("dimension must be between 1 and 4096")
        bucket[name] = _Index(
            bucket=body.get("vectorBucketName", ""),
            name=name,
            dimension=dimension,
            metric=body["distanceMetric"],
            created=datetime.now(UTC),
            metadata_configuration=body.get("metadataConfiguration"),
        )
        return {}

    def op_GetIndex(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"index": self._index(body).describe(self.region)}

    def op_DeleteIndex(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self._index(body)
        del self._bucket(body)[index.name]
        return {}

    def op_PutVectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self._index(body)
        vectors = body.get("vectors") or []
        if not 1 <= len(vectors) <= MAX_BATCH:
            raise _validation(f"vectors must hold between 1 and {MAX_BATCH} items")
        staged = {}
        for vector in vectors:
            data = vector.get("data", {}).get("float32")
            if not isinstance(data, list) or len(data) != index.dimension:
                raise _validation(
                    f"Invalid vector dimension for key {vector.get('key')}: expected {index.dimension}"
                )
            if not all(isinstance(x, int | float) and math.isfinite(x) for x in data):
                raise _validation(f"Vector {vector.get('key')} holds a value that is not a finite number")
            staged[vector["key"]] = ([float(x) for x in data], dict(vector.get("metadata") or {}))
        index.vectors.update(staged)
        return {}

    def op_GetVectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self._index(body)
        found = [key for key in body.get("keys", []) if key in index.vectors]
        return {"vectors": [self._describe(index, key, body) for key in found]}

    def op_ListVectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self._index(body)
        keys = sorted(index.vectors)
        start = int(body.get("nextToken") or 0)
        size = int(body.get("maxResults") or 500)
        page = keys[start : start + size]
        reply: dict[str, Any] = {"vectors": [self._describe(index, key, body) for key in page]}
        if start + size < len(keys):
            reply["nextToken"] = str(start + size)
        return reply

    def op_DeleteVectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self._index(body)
        keys = body.get("keys") or []
        if not 1 <= len(keys) <= MAX_BATCH:
            raise _validation(f"keys must hold between 1 and {MAX_BATCH} items")
        for key in keys:
            index.vectors.pop(key, None)
        return {}

    def op_QueryVectors(self, body: dict[str, Any]) -> dict[str, Any]:
        index = self._index(body)
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise _validation(f"topK must be between 1 and {MAX_TOP_K}")
        query = (body.get("queryVector") or {}).get("float32")
        if not isinstance(query, list) or len(query) != index.dimension:
            raise _validation(f"Query vector must have {index.dimension} dimensions")
        expression = body.get("filter")
        ranked = sorted(
            (_distance(index.metric, query, data), key)
            for key, (data, metadata) in index.vectors.items()
            if expression is None or matches(expression, metadata)
        )
        found = []
        for distance, key in ranked[:top_k]:
            item: dict[str, Any] = {"key": key}
            if body.get("returnDistance"):
                item["distance"] = distance
            if body.get("returnMetadata"):
                item["metadata"] = index.vectors[key][1]
            found.append(item)
        return {"vectors": found, "distanceMetric": index.metric}

    @staticmethod
    def _describe(index: _Index, key: str, body: dict[str, Any]) -> dict[str, Any]:
        data, metadata = index.vectors[key]
        item: dict[str, Any] = {"key": key}
        if body.get("returnData"):
            item["data"] = {"float32": data}
        if body.get("returnMetadata"):
            item["metadata"] = metadata
        return item


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        operation = self.path.split("?", 1)[0].strip("/")
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise _validation("The request body must be a JSON object")
            self._reply(200, self.server.service.handle(operation, body))
        except json.JSONDecodeError:
            self._error(_validation("The request body is not JSON"))
        except ServiceError as error:
            self._error(error)

    def _error(self, error: ServiceError) -> None:
        self._reply(error.status, {"message": error.message}, error_type=error.code)

    def _reply(self, status: int, payload: dict[str, Any], error_type: str | None = None) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: S3VectorsService) -> None:
        super().__init__(address, _Handler)
        self.service = service


class S3VectorsFake:
    """The fake on a free loopback port, served from a background thread while it is open."""

    def __init__(self, region: str = "us-east-1", host: str = LOOPBACK, port: int = 0) -> None:
        self.service = S3VectorsService(region)
        self._server = _Server((host, port), self.service)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> S3VectorsFake:
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3vectors-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> S3VectorsFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
