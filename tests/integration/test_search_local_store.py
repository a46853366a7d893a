"""The local-feature indexes in S3 against the embedded AWS: the region's vocabulary learned once,
shop and region snapshots written conditionally and seen by a reader after its ETag refresh."""

from __future__ import annotations

import uuid

import pytest
from PIL import Image

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.search.local_features import LocalFeatureIndex, LocalFeatureParams, catalog_features
from chatshop.search.local_store import LocalFeatureStore, LocalImage, vocabulary_key
from chatshop.search.local_vocabulary import Vocabulary
from chatshop.search.snapshots import BlobStore, snapshot_key

from ..unit.search.test_local_features import crop, product_picture, upload
from .test_search_index import REGION, Clock, aws_env, moto_url  # noqa: F401

pytestmark = pytest.mark.integration

SHOP_A, SHOP_B = "a" * 32, "b" * 32
PARAMS = LocalFeatureParams()


@pytest.fixture
def bucket(aws_env) -> str:  # noqa: F811
    name = f"search-index-{uuid.uuid4().hex[:12]}"
    aws.client("s3", Settings(region=REGION)).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


@pytest.fixture
def blobs(bucket) -> BlobStore:
    return BlobStore(aws.client("s3", Settings(region=REGION)), bucket)


def image(key: str, seed: int, country: str = "US") -> LocalImage:
    return LocalImage(key, country, catalog_features(upload(product_picture(seed)), PARAMS))


def store(blobs: BlobStore, clock: Clock) -> LocalFeatureStore:
    return LocalFeatureStore(blobs, REGION, check_every_s=5, clock=clock)


def test_the_first_build_learns_the_vocabulary_and_both_snapshots_find_the_image(blobs) -> None:
    clock = Clock()
    writer, reader = store(blobs, clock), store(blobs, clock)
    assert reader.index(SHOP_A) is None  # no vocabulary yet: nothing can be searched

    writer.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1), image(f"{SHOP_A}/p2:i1", 2, "MX")], [])

    vocabulary = Vocabulary.from_bytes(blobs.get(vocabulary_key(REGION)).data)
    assert vocabulary.size == PARAMS.branching**PARAMS.depth
    photo = upload(crop(product_picture(2)))
    assert reader.index(SHOP_A) is None  # what it read stays until its next check
    clock.now += 6
    assert [m.key for m in reader.index(SHOP_A).query(photo)] == [f"{SHOP_A}/p2:i1"]
    region = reader.index(None)
    assert [m.key for m in region.query(photo, label="MX")] == [f"{SHOP_A}/p2:i1"]
    assert region.query(photo, label="US") == []
    # The snapshots do not repeat the vocabulary: they name it
    shop_snapshot = blobs.get(snapshot_key(REGION, "local", SHOP_A)).data
    assert len(shop_snapshot) < 100_000
    assert (
        LocalFeatureIndex.from_bytes(shop_snapshot, vocabulary=vocabulary).vocabulary.digest
        == vocabulary.digest
    )


def test_later_builds_keep_the_vocabulary_and_a_reader_sees_changes_after_its_refresh(blobs) -> None:
    clock = Clock()
    writer, reader = store(blobs, clock), store(blobs, clock)
    writer.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])
    first = blobs.get(vocabulary_key(REGION)).etag
    assert len(reader.index(SHOP_B)) == 0

    # When another shop's images come, and an image of the first shop goes
    writer.apply(SHOP_B, [image(f"{SHOP_B}/p3:i1", 3)], [])
    writer.apply(SHOP_A, [], [f"{SHOP_A}/p1:i1"])

    # Then the vocabulary is the first one; the reader sees the change once its cache is stale
    assert blobs.get(vocabulary_key(REGION)).etag == first
    photo = upload(crop(product_picture(3)))
    assert len(reader.index(SHOP_B)) == 0
    clock.now += 6
    assert [m.key for m in reader.index(SHOP_B).query(photo)] == [f"{SHOP_B}/p3:i1"]
    assert len(reader.index(SHOP_A)) == 0
    assert [m.key for m in reader.index(None).query(photo)] == [f"{SHOP_B}/p3:i1"]


def test_two_indexers_learning_at_once_keep_the_first_vocabulary(blobs) -> None:
    clock = Clock()
    first, second = store(blobs, clock), store(blobs, clock)
    assert first.vocabulary() is None and second.vocabulary() is None  # both saw no vocabulary

    first.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])
    # The second learns from other pictures, finds the first one's words written, and uses them
    second.apply(SHOP_B, [image(f"{SHOP_B}/p2:i1", 2)], [])

    kept = Vocabulary.from_bytes(blobs.get(vocabulary_key(REGION)).data)
    region = store(blobs, clock).index(None)
    assert region.vocabulary.digest == kept.digest and len(region) == 2
    assert [m.key for m in region.query(upload(crop(product_picture(2))))] == [f"{SHOP_B}/p2:i1"]


def test_featureless_pictures_teach_no_vocabulary_and_deletes_before_any_do_nothing(blobs) -> None:
    clock = Clock()
    writer = store(blobs, clock)
    flat = LocalImage(
        f"{SHOP_A}/p1:i1", "US", catalog_features(upload(Image.new("RGB", (200, 200), "teal")), PARAMS)
    )
    assert len(flat.features) == 0

    writer.apply(SHOP_A, [flat], [])
    writer.apply(SHOP_A, [], [f"{SHOP_A}/p9:i1"])

    assert blobs.get(vocabulary_key(REGION)) is None
    assert blobs.get(snapshot_key(REGION, "local", SHOP_A)) is None


def test_the_store_reads_from_the_configured_bucket(bucket) -> None:
    from chatshop.search.local_store import local_store_for

    settings = Settings(region=REGION, search_index_bucket=bucket)
    local = local_store_for(settings)
    local.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])

    listed = aws.client("s3", settings).list_objects_v2(Bucket=bucket, Prefix=f"indexes/{REGION}/local/")
    assert sorted(item["Key"] for item in listed["Contents"]) == [
        f"indexes/{REGION}/local/region.idx",
        f"indexes/{REGION}/local/shops/{SHOP_A}.idx",
        f"indexes/{REGION}/local/vocabulary.voc",
    ]
