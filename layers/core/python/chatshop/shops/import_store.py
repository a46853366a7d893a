"""Data access for catalog imports: their status record in the table, their files in the bucket.

Rejections beyond what fits comfortably in an item go to the bucket, whole, next to the feed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .domain import CatalogImport, ImportRejection
from .shop_store import shop_key
from .tables import ImportItem, bind

INLINE_REJECTIONS = 500


def import_key(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def feed_object_key(shop_id: str, import_id: str) -> str:
    return f"imports/{shop_id}/{import_id}/feed"


def _rejections_object_key(shop_id: str, import_id: str) -> str:
    return f"imports/{shop_id}/{import_id}/rejected.json"


class ImportStore:
    def __init__(self, settings: Settings) -> None:
        self._imports = bind(settings).imports
        self._bucket = settings.require("media_bucket")
        self._s3 = aws.client("s3", settings)

    def create(self, shop_id: str, record: CatalogImport, source_key: str | None, content_type: str) -> None:
        self._imports(
            pk=shop_key(shop_id),
            sk=import_key(record.id),
            status=record.status,
            source_key=source_key,
            content_type=content_type,
            created_at=record.created_at,
        ).save(condition=self._imports.pk.does_not_exist())

    def put_feed(self, shop_id: str, import_id: str, body: bytes, content_type: str) -> str:
        key = feed_object_key(shop_id, import_id)
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        return key

    def read_object(self, key: str) -> tuple[bytes, str] | None:
        try:
            obj = self._s3.get_object(Bucket=self._bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        return obj["Body"].read(), obj.get("ContentType", "")

    def finish(self, shop_id: str, record: CatalogImport) -> None:
        imports = self._imports
        rejected = [r.model_dump() for r in record.rejected]
        rejected_key = None
        if len(rejected) > INLINE_REJECTIONS:
            rejected_key = _rejections_object_key(shop_id, record.id)
            self._s3.put_object(
                Bucket=self._bucket,
                Key=rejected_key,
                Body=json.dumps(rejected),
                ContentType="application/json",
            )
            rejected = rejected[:INLINE_REJECTIONS]
        imports(pk=shop_key(shop_id), sk=import_key(record.id)).update(
            actions=[
                imports.status.set(record.status),
                imports.created.set(record.created),
                imports.updated.set(record.updated),
                imports.unchanged.set(record.unchanged),
                imports.rejected.set(rejected),
                imports.rejected_count.set(len(record.rejected)),
                imports.rejected_key.set(rejected_key) if rejected_key else imports.rejected_key.remove(),
                imports.error.set(record.error) if record.error else imports.error.remove(),
                imports.finished_at.set(datetime.now(UTC)),
            ]
        )

    def get(self, shop_id: str, import_id: str) -> tuple[CatalogImport, str | None, str] | None:
        """The import, the key of its feed object, and the feed's content type."""
        try:
            item = self._imports.get(shop_key(shop_id), import_key(import_id), consistent_read=True)
        except self._imports.DoesNotExist:
            return None
        return _to_import(item, self._all_rejections(item)), item.source_key, item.content_type

    def _all_rejections(self, item: ImportItem) -> list[dict[str, Any]]:
        if item.rejected_key:
            found = self.read_object(item.rejected_key)
            if found is not None:
                return json.loads(found[0])
        return list(item.rejected or [])


def _to_import(item: ImportItem, rejected: list[dict[str, Any]]) -> CatalogImport:
    return CatalogImport(
        id=item.sk.removeprefix("IMPORT#"),
        status=item.status,
        created=int(item.created or 0),
        updated=int(item.updated or 0),
        unchanged=int(item.unchanged or 0),
        rejected=[ImportRejection(**r) for r in rejected],
        error=item.error,
        created_at=item.created_at.astimezone(UTC),
        finished_at=item.finished_at.astimezone(UTC) if item.finished_at else None,
    )
