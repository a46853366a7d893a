"""Media events: records product images uploaded to the media bucket (S3 ObjectCreated)."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.shops.media import MediaBucket, record_uploaded_image
from chatshop.shops.product_store import ProductStore

settings = load_settings()
logger = get_logger()


@cache
def dependencies() -> tuple[MediaBucket, ProductStore]:
    return MediaBucket(settings), ProductStore(settings)


def handler(event: dict[str, Any], context: Any) -> None:
    bucket, products = dependencies()
    for record in event.get("Records", []):
        key = unquote_plus(record["s3"]["object"]["key"])
        outcome = record_uploaded_image(bucket, products, key)
        logger.info("Media object handled", extra={"key": key, "outcome": outcome})
