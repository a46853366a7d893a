"""Product images: presigned uploads straight to the bucket, and recording what arrived.

The client uploads with a presigned POST whose policy fixes the key, the content type and the size
range, so S3 itself refuses anything else. The bucket's ObjectCreated event then reaches the media
function, which checks the object once more and records the image on its product.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.errors import ValidationFailed

from .domain import Product, ProductImage, Shop
from .product_store import ProductNotFound, ProductStore

IMAGE_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FEED_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOAD_EXPIRES_S = 900
VIEW_EXPIRES_S = 3600

_IMAGE_KEY = re.compile(
    r"^shops/(?P<shop>[0-9a-f]{32})/products/(?P<product>p[0-9a-f]{31})/images/(?P<image>[0-9a-f]{32})$"
)


def image_key(shop_id: str, product_id: str, image_id: str) -> str:
    return f"shops/{shop_id}/products/{product_id}/images/{image_id}"


@dataclass(frozen=True)
class ImageObject:
    shop_id: str
    product_id: str
    image_id: str


def parse_image_key(key: str) -> ImageObject | None:
    match = _IMAGE_KEY.match(key)
    return ImageObject(match["shop"], match["product"], match["image"]) if match else None


class MediaBucket:
    """Data access for the media bucket: presigned URLs and object checks."""

    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.require("media_bucket")
        self._s3 = aws.client("s3", settings)

    def presigned_post(self, key: str, content_type: str, max_bytes: int) -> dict[str, Any]:
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=UPLOAD_EXPIRES_S,
        )
        return {"method": "POST", "url": post["url"], "headers": {}, "fields": post["fields"]}

    def presigned_get(self, key: str) -> str:
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=VIEW_EXPIRES_S
        )

    def head(self, key: str) -> tuple[str, int] | None:
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except self._s3.exceptions.ClientError:
            return None
        return head.get("ContentType", ""), int(head.get("ContentLength", 0))

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
        return deleted


def request_image_upload(
    bucket: MediaBucket, shop: Shop, product: Product, content_type: str
) -> dict[str, Any]:
    if content_type not in IMAGE_CONTENT_TYPES:
        raise ValidationFailed(["content_type"], f"Images must be one of {', '.join(IMAGE_CONTENT_TYPES)}.")
    image_id = uuid.uuid4().hex
    upload = bucket.presigned_post(image_key(shop.id, product.id, image_id), content_type, MAX_IMAGE_BYTES)
    return {"image_id": image_id, "upload": upload}


def with_image_urls(bucket: MediaBucket, product: Product) -> Product:
    images = [
        image.model_copy(
            update={"url": bucket.presigned_get(image_key(product.shop_id, product.id, image.id))}
        )
        for image in product.images
    ]
    return product.model_copy(update={"images": images})


def record_uploaded_image(bucket: MediaBucket, products: ProductStore, key: str) -> str:
    """Record an uploaded image on its product, or remove the object; says which, for the log."""
    image = parse_image_key(key)
    if image is None:
        return "ignored: not a product image key"
    found = bucket.head(key)
    if found is None:
        return "ignored: the object is gone"
    content_type, size = found
    if content_type not in IMAGE_CONTENT_TYPES or not 0 < size <= MAX_IMAGE_BYTES:
        bucket.delete(key)
        return "removed: not an accepted image"
    try:
        products.add_image(
            image.shop_id, image.product_id, ProductImage(id=image.image_id, content_type=content_type)
        )
    except ProductNotFound:
        bucket.delete(key)
        return "removed: the product no longer exists"
    return "recorded"
