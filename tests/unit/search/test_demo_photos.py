"""The demo shop's customer photos (blurred, turned, off-centre crops of its drawn product pictures)
each find their own product first, through the region's local-feature store as the indexer fills it:
the demo catalog arrives one product at a time, so the region's first words are learned from one
flat drawing. What `chatshop chat` relies on, checked without the stack."""

from __future__ import annotations

import hashlib
import io

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from chatshop.search.images import validate_image
from chatshop.search.local_features import catalog_features
from chatshop.search.local_store import LocalFeatureStore, LocalImage
from chatshop.search.snapshots import BlobStore
from chatshop_local.demo_pictures import PICTURES, customer_photo, demo_picture, jpeg_bytes

REGION = "us-east-1"
SHOP = "shop-demo"


class MemoryS3:
    """The calls BlobStore makes, with S3's ETag conditions (a 412 when one fails)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def get_object(self, *, Bucket: str, Key: str, IfNoneMatch: str | None = None) -> dict:  # noqa: N803
        if Key not in self.objects:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "GetObject"
            )
        data, etag = self.objects[Key]
        if IfNoneMatch == etag:
            raise ClientError(
                {"Error": {"Code": "304"}, "ResponseMetadata": {"HTTPStatusCode": 304}}, "GetObject"
            )
        return {"Body": io.BytesIO(data), "ETag": etag}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **condition: str) -> dict:  # noqa: N803
        current = self.objects.get(Key)
        failed = ("IfNoneMatch" in condition and current is not None) or (
            "IfMatch" in condition and (current is None or current[1] != condition["IfMatch"])
        )
        if failed:
            raise ClientError(
                {"Error": {"Code": "PreconditionFailed"}, "ResponseMetadata": {"HTTPStatusCode": 412}},
                "PutObject",
            )
        etag = '"' + hashlib.md5(Body).hexdigest() + '"'
        self.objects[Key] = (bytes(Body), etag)
        return {"ETag": etag}


def uploaded(picture: Image.Image) -> Image.Image:
    """As the indexer and the chat's photo search read a picture: JPEG bytes, validated, decoded."""
    return validate_image(jpeg_bytes(picture), "image/jpeg").image


def key_of(retailer_id: str) -> str:
    return f"{SHOP}:{retailer_id}:0"


def demo_store(batch: int) -> LocalFeatureStore:
    store = LocalFeatureStore(BlobStore(MemoryS3(), "index-bucket"), REGION, check_every_s=0)
    images = [
        LocalImage(
            key_of(retailer_id), "US", catalog_features(uploaded(demo_picture(retailer_id)), store.params)
        )
        for retailer_id in PICTURES
    ]
    for start in range(0, len(images), batch):
        store.apply(SHOP, images[start : start + batch], [])
    return store


# The photo the e2e chat test sends, and the one other demo product whose photo is found first
# however the catalog arrived. The other drawings share their outline with another product in
# another colour (three jackets, two tees, two pairs of socks) or are a few flat shapes (the cap,
# the tote), and the matcher sees grey: their photos find nothing, or a sibling as often as
# themselves, so they are counted below rather than required one by one.
ALWAYS_FIRST = ("TEE-BLK-M", "JKT-PUF-BLK-M")
# How many of the twelve photos find their product first, with a verified score: never fewer.
FOUND_FIRST_AT_LEAST = {1: 4, len(PICTURES): 2}


@pytest.fixture(scope="module", params=list(FOUND_FIRST_AT_LEAST), ids=["one-per-batch", "one-batch"])
def store(request: pytest.FixtureRequest) -> tuple[int, LocalFeatureStore]:
    return request.param, demo_store(request.param)


def found_first(store: LocalFeatureStore, retailer_id: str, shop: str | None = SHOP) -> bool:
    index = store.index(shop)
    assert index is not None and len(index) == len(PICTURES)
    matches = index.query(uploaded(customer_photo(retailer_id)), limit=3)
    return (
        bool(matches)
        and matches[0].key == key_of(retailer_id)
        and matches[0].inliers >= index.params.min_inliers
    )


@pytest.mark.parametrize("retailer_id", ALWAYS_FIRST)
def test_the_demo_customer_photo_finds_its_product_first(
    store: tuple[int, LocalFeatureStore], retailer_id: str
) -> None:
    _, indexed = store
    assert found_first(indexed, retailer_id)
    assert found_first(indexed, retailer_id, shop=None)  # the region's marketplace index too


def test_no_fewer_demo_photos_find_their_product_first(store: tuple[int, LocalFeatureStore]) -> None:
    batch, indexed = store
    found = [retailer_id for retailer_id in PICTURES if found_first(indexed, retailer_id)]
    assert len(found) >= FOUND_FIRST_AT_LEAST[batch], found


def test_a_flat_photo_matches_no_demo_product(store: tuple[int, LocalFeatureStore]) -> None:
    flat = uploaded(Image.new("RGB", (320, 320), (200, 200, 200)))
    assert store[1].index(SHOP).query(flat) == []
