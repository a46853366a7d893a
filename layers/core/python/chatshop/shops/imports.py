"""Catalog imports: a feed in Meta's format becomes created, updated and unchanged products.

Small feeds are applied in the request; larger ones are kept in the bucket and applied by the
import worker from the queue. Either way the same :func:`apply_feed` runs: rows go in batches of up
to 1,000 (``WRITE_BATCH``), read together; new products are stored in batch writes, and each change
to an existing product is one conditional write over the version it was compared with, so a
concurrent edit is never silently overwritten. Re-importing the same feed writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatshop.platform.errors import Forbidden, NotFound, ValidationFailed

from .catalog import changed_product, content_hash, new_product, product_id_for
from .domain import CatalogImport, ImportRejection, Shop
from .feed import FeedFormatError, FeedRow, ParsedFeed, parse_feed
from .import_store import ImportStore
from .jobs import JobQueue
from .media import MAX_FEED_UPLOAD_BYTES, MediaBucket
from .product_store import WRITE_BATCH, ProductStore, ProductWrite

SYNC_MAX_ROWS = 5_000
_WRITE_ATTEMPTS = 3
FEED_CONTENT_TYPES = ("text/csv", "application/csv", "application/json")


class InvalidFeed(ValidationFailed):
    code = "invalid_feed"


class ProductsKeptChanging(Exception):
    pass


@dataclass(frozen=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.created + other.created, self.updated + other.updated, self.unchanged + other.unchanged
        )


def apply_feed(store: ProductStore, shop: Shop, rows: list[FeedRow]) -> Counts:
    total = Counts()
    for start in range(0, len(rows), WRITE_BATCH):
        total += _apply_batch(store, shop, rows[start : start + WRITE_BATCH])
    return total


def _apply_batch(store: ProductStore, shop: Shop, rows: list[FeedRow]) -> Counts:
    counts, pending = Counts(), rows
    for _ in range(_WRITE_ATTEMPTS):
        done, pending = _try_batch(store, shop, pending)
        counts += done
        if not pending:
            return counts
    # Someone kept changing these products while the feed was applied; the feed must not win blindly.
    raise ProductsKeptChanging([row.product.retailer_id for row in pending])


def _try_batch(store: ProductStore, shop: Shop, rows: list[FeedRow]) -> tuple[Counts, list[FeedRow]]:
    """Write what changed; the rows whose product changed meanwhile come back to be compared again."""
    now = datetime.now(UTC)
    ids = [product_id_for(shop.id, row.product.retailer_id) for row in rows]
    stored = store.get_many(shop.id, ids)
    writes: list[tuple[FeedRow, ProductWrite]] = []
    unchanged = 0
    for product_id, row in zip(ids, rows, strict=True):
        fields_hash = content_hash(row.product)
        current = stored.get(product_id)
        if current is None:
            writes.append((row, ProductWrite(new_product(shop, row.product, now), fields_hash, None)))
        elif current.content_hash != fields_hash:
            product = changed_product(current.product, row.product, now)
            writes.append((row, ProductWrite(product, fields_hash, current.version)))
        else:
            unchanged += 1
    creates = [write for _, write in writes if write.expected_version is None]
    store.create_many(creates)
    changes = [write for _, write in writes if write.expected_version is not None]
    failed = {id(write) for write in store.write_each(changes)}
    updated = len(writes) - len(creates) - len(failed)
    return Counts(len(creates), updated, unchanged), [row for row, write in writes if id(write) in failed]


def run_import(
    store: ProductStore, shop: Shop, record: CatalogImport, body: bytes, content_type: str
) -> CatalogImport:
    """Parse and apply a whole feed; a file that cannot be read fails the import, not the caller."""
    try:
        parsed = parse_feed(body, content_type, shop.currency)
    except FeedFormatError as exc:
        return record.model_copy(
            update={
                "status": "failed",
                "error": str(exc),
                "rejected": [ImportRejection(row=0, column=None, reason=str(exc))],
            }
        )
    return _completed(record, apply_feed(store, shop, parsed.rows), parsed)


def _completed(record: CatalogImport, counts: Counts, parsed: ParsedFeed) -> CatalogImport:
    return record.model_copy(
        update={
            "status": "completed",
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": [
                ImportRejection(row=r.row, column=r.column, reason=r.reason) for r in parsed.rejected
            ],
            "finished_at": datetime.now(UTC),
        }
    )


def start_import(
    products: ProductStore, imports: ImportStore, jobs: JobQueue, shop: Shop, body: bytes, content_type: str
) -> CatalogImport:
    """Apply a small feed now; keep a large one in the bucket and queue it for the worker."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        parsed = parse_feed(body, content_type, shop.currency)
    except FeedFormatError as exc:
        raise InvalidFeed(["body"], f"The feed cannot be read: {exc}") from None
    record = CatalogImport(id=uuid.uuid4().hex, status="queued", created_at=datetime.now(UTC))
    if len(parsed.rows) + len(parsed.rejected) > SYNC_MAX_ROWS:
        source_key = imports.put_feed(shop.id, record.id, body, content_type)
        imports.create(shop.id, record, source_key, media_type)
        jobs.send({"type": "CatalogImportRequested", "shop_id": shop.id, "import_id": record.id})
        return record
    imports.create(shop.id, record, None, media_type)
    finished = _completed(record, apply_feed(products, shop, parsed.rows), parsed)
    imports.finish(shop.id, finished)
    return finished


def start_import_from_upload(
    imports: ImportStore, jobs: JobQueue, shop: Shop, upload_key: str
) -> CatalogImport:
    if not upload_key.startswith(upload_prefix(shop.id)):
        # Well-formed, but another shop's: "not yours", as for any other resource of another shop.
        raise Forbidden("The upload_key is not an upload of this shop.")
    found = imports.read_object(upload_key)
    if found is None:
        # A well-formed key whose upload never happened (or expired): a missing resource.
        raise NotFound("Nothing was uploaded under this upload_key.")
    record = CatalogImport(id=uuid.uuid4().hex, status="queued", created_at=datetime.now(UTC))
    imports.create(shop.id, record, upload_key, found[1])
    jobs.send({"type": "CatalogImportRequested", "shop_id": shop.id, "import_id": record.id})
    return record


def request_feed_upload(bucket: MediaBucket, shop: Shop, content_type: str) -> dict[str, Any]:
    """A presigned upload for a feed too large for a request body; import it by its upload_key."""
    if content_type not in FEED_CONTENT_TYPES:
        raise ValidationFailed(["content_type"], f"Feeds must be one of {', '.join(FEED_CONTENT_TYPES)}.")
    key = f"{upload_prefix(shop.id)}{uuid.uuid4().hex}"
    return {"upload_key": key, "upload": bucket.presigned_post(key, content_type, MAX_FEED_UPLOAD_BYTES)}


def upload_prefix(shop_id: str) -> str:
    return f"uploads/{shop_id}/"


def get_import(imports: ImportStore, shop: Shop, import_id: str) -> CatalogImport:
    found = imports.get(shop.id, import_id)
    if found is None:
        raise NotFound(f"No import {import_id} in this shop.")
    return found[0]


def process_queued_import(
    products: ProductStore, imports: ImportStore, shop: Shop, import_id: str
) -> CatalogImport:
    """The worker's side: apply a queued import once; a finished one is left as it is."""
    found = imports.get(shop.id, import_id)
    if found is None:
        raise NotFound(f"No import {import_id} in shop {shop.id}.")
    record, source_key, content_type = found
    if record.status != "queued":
        return record
    feed = imports.read_object(source_key) if source_key else None
    if feed is None:
        finished = record.model_copy(update={"status": "failed", "error": "The feed file is missing."})
    else:
        finished = run_import(products, shop, record, feed[0], content_type or feed[1])
    imports.finish(shop.id, finished)
    return finished
