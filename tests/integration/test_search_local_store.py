"""The local-feature indexes in S3 against the embedded AWS: the region's vocabulary learned from
its first images and again as it grows, shop and region snapshots written conditionally and seen
by a reader after its ETag refresh, each one always read with the words it was written with."""

from __future__ import annotations

import json
import uuid

import pytest
from PIL import Image, ImageDraw

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.search.local_features import (
    LocalFeatureIndex,
    LocalFeatureParams,
    catalog_features,
    vocabulary_digest_of,
)
from chatshop.search.local_store import (
    LocalFeatureStore,
    LocalImage,
    current_vocabulary_key,
    vocabulary_key,
)
from chatshop.search.local_vocabulary import Vocabulary
from chatshop.search.snapshots import BlobStore, snapshot_key

from ..unit.search.test_local_features import crop, in_a_scene, perspective, product_picture, upload
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


def store(blobs: BlobStore, clock: Clock, **options) -> LocalFeatureStore:
    return LocalFeatureStore(blobs, REGION, check_every_s=5, clock=clock, **options)


def current(blobs: BlobStore) -> dict:
    return json.loads(blobs.get(current_vocabulary_key(REGION)).data)


def stored_vocabulary(blobs: BlobStore) -> Vocabulary:
    return Vocabulary.from_bytes(blobs.get(vocabulary_key(REGION, current(blobs)["digest"])).data)


def test_the_first_build_learns_the_vocabulary_and_both_snapshots_find_the_image(blobs) -> None:
    clock = Clock()
    writer, reader = store(blobs, clock), store(blobs, clock)
    assert reader.index(SHOP_A) is None  # no vocabulary yet: nothing can be searched

    writer.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1), image(f"{SHOP_A}/p2:i1", 2, "MX")], [])

    vocabulary = stored_vocabulary(blobs)
    assert current(blobs)["images"] == 2
    # Two pictures' features fill a few hundred words, not the 4,096 of a grown region
    assert 8**PARAMS.depth <= vocabulary.size < PARAMS.branching**PARAMS.depth
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
    first = blobs.get(current_vocabulary_key(REGION)).etag
    assert reader.index(SHOP_B) is None

    # When another shop's images come, and an image of the first shop goes
    writer.apply(SHOP_B, [image(f"{SHOP_B}/p3:i1", 3)], [])
    writer.apply(SHOP_A, [], [f"{SHOP_A}/p1:i1"])

    # Then the vocabulary is the first one; the reader sees the change once its cache is stale
    assert blobs.get(current_vocabulary_key(REGION)).etag == first
    photo = upload(crop(product_picture(3)))
    assert reader.index(SHOP_B) is None
    clock.now += 6
    assert [m.key for m in reader.index(SHOP_B).query(photo)] == [f"{SHOP_B}/p3:i1"]
    assert len(reader.index(SHOP_A)) == 0
    assert [m.key for m in reader.index(None).query(photo)] == [f"{SHOP_B}/p3:i1"]


def test_two_indexers_learning_at_once_keep_the_first_vocabulary(blobs) -> None:
    clock = Clock()
    first, second = store(blobs, clock), store(blobs, clock)
    assert first.current() is None and second.current() is None  # both saw no vocabulary

    first.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])
    # The second learns from other pictures, finds the first one's words written, and uses them
    second.apply(SHOP_B, [image(f"{SHOP_B}/p2:i1", 2)], [])

    kept = stored_vocabulary(blobs)
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

    assert blobs.get(current_vocabulary_key(REGION)) is None
    assert blobs.get(snapshot_key(REGION, "local", SHOP_A)) is None


def test_the_store_reads_from_the_configured_bucket(bucket) -> None:
    from chatshop.search.local_store import local_store_for

    settings = Settings(region=REGION, search_index_bucket=bucket)
    local = local_store_for(settings)
    local.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])

    listed = aws.client("s3", settings).list_objects_v2(Bucket=bucket, Prefix=f"indexes/{REGION}/local/")
    digest = json.loads(local._blobs.get(current_vocabulary_key(REGION)).data)["digest"]
    assert sorted(item["Key"] for item in listed["Contents"]) == [
        f"indexes/{REGION}/local/region.idx",
        f"indexes/{REGION}/local/shops/{SHOP_A}.idx",
        f"indexes/{REGION}/local/vocabularies/{digest}.voc",
        f"indexes/{REGION}/local/vocabulary.json",
    ]


def flat_picture(step: int) -> Image.Image:
    """A test picture with almost nothing in it: a dark block on grey, a dozen corners at most."""
    picture = Image.new("RGB", (256, 256), (200, 200, 200))
    ImageDraw.Draw(picture).rectangle((60 + 10 * step, 60, 180, 180 + 5 * step), fill=(40, 40, 40))
    return picture


def found(index: LocalFeatureIndex, seeds: range) -> int:
    """How many of the products' photos (in a scene, in perspective) find them first at the first
    look: given its features alone, a photo is not looked at again closer, which would make up for
    poor words by more features and hide what the words are worth."""
    hits = 0
    for seed in seeds:
        for change in (in_a_scene, perspective):
            matches = index.query(index.features_of(upload(change(product_picture(seed))), query=True))
            hits += bool(matches) and matches[0].key == f"{SHOP_A if seed % 2 else SHOP_B}/p{seed}:i1"
    return hits


def test_a_region_whose_first_images_were_flat_matches_well_once_it_has_relearned(bucket, blobs) -> None:
    clock = Clock()
    # Two regions fed alike: this one relearns as it grows, the other never does.
    other = f"{bucket}-fixed"
    aws.client("s3", Settings(region=REGION)).create_bucket(
        Bucket=other, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    fixed_blobs = BlobStore(aws.client("s3", Settings(region=REGION)), other)
    writers = [store(blobs, clock), store(fixed_blobs, clock, relearn_growth=float("inf"))]
    poor = [
        LocalImage(f"{SHOP_A}/t{i}:i1", "US", catalog_features(upload(flat_picture(i)), PARAMS))
        for i in range(2)
    ]
    products = [
        LocalImage(
            f"{SHOP_A if seed % 2 else SHOP_B}/p{seed}:i1",
            "US",
            catalog_features(upload(product_picture(seed)), PARAMS),
        )
        for seed in range(100, 120)
    ]
    for writer in writers:
        writer.apply(SHOP_A, poor, [])
    first = current(blobs)
    assert first["images"] == 2

    # When the catalog's real products come, in batches, to both shops
    for start in range(0, len(products), 5):
        for writer in writers:
            for shop in (SHOP_A, SHOP_B):
                writer.apply(shop, [i for i in products[start : start + 5] if i.key.startswith(shop)], [])

    # Then this region learned its words again from all its images once it held 18 (2 x 2, and 16
    # more), at the write that brought it there (one batch of 2 or 3 past 17), and not again since
    relearned = current(blobs)
    assert relearned["digest"] != first["digest"] and 18 <= relearned["images"] <= 20
    assert current(fixed_blobs)["digest"] == first["digest"]
    # every snapshot was rewritten with the new words; the old ones are kept for any reader of them
    for shop in (None, SHOP_A, SHOP_B):
        snapshot = blobs.get(snapshot_key(REGION, "local", shop)).data
        assert vocabulary_digest_of(snapshot) == relearned["digest"]
    assert blobs.get(vocabulary_key(REGION, first["digest"])) is not None
    # and it finds its products where the region still on the flat pictures' words mostly does not
    region = store(blobs, clock).index(None)
    fixed = store(fixed_blobs, clock).index(None)
    assert len(region) == len(fixed) == 22
    seeds = range(100, 112)
    assert found(region, seeds) >= 22  # of 24
    assert found(fixed, seeds) <= 18
    # a shop's own search is on the new words too
    shop = store(blobs, clock).index(SHOP_A)
    assert shop.vocabulary.digest == relearned["digest"] and len(shop) == 12


def test_relearning_is_deterministic_and_a_reader_of_the_old_snapshot_still_gets_answers(blobs) -> None:
    clock = Clock()
    writer, reader = store(blobs, clock, relearn_min_images=2), store(blobs, clock)
    writer.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])
    before = reader.index(SHOP_A)  # read with the first words
    writer.apply(SHOP_A, [image(f"{SHOP_A}/p2:i1", 2), image(f"{SHOP_A}/p3:i1", 3)], [])
    assert current(blobs)["images"] == 3

    # The same snapshot relearned again gives the same words
    region = writer.index(None)
    assert region.relearned(seed=0).vocabulary.digest == current(blobs)["digest"]
    # A reader holding the old snapshot still answers with it until its refresh, then sees the new one
    assert [m.key for m in before.query(upload(crop(product_picture(1))))] == [f"{SHOP_A}/p1:i1"]
    clock.now += 6
    after = reader.index(SHOP_A)
    assert after.vocabulary.digest == current(blobs)["digest"] and len(after) == 3
    assert [m.key for m in after.query(upload(crop(product_picture(3))))][:1] == [f"{SHOP_A}/p3:i1"]


def test_a_write_never_undoes_another_indexers_relearning(blobs) -> None:
    clock = Clock()
    slow, fast = store(blobs, clock), store(blobs, clock, relearn_min_images=1)
    slow.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])
    learned = slow.current()
    # The other indexer grows the region and relearns
    fast.apply(SHOP_A, [image(f"{SHOP_A}/p2:i1", 2)], [])
    relearned = current(blobs)["digest"]
    assert relearned != learned.vocabulary.digest

    # This one still holds the first words when it writes (its read of the current vocabulary is older)
    slow._blobs.update(
        snapshot_key(REGION, "local", SHOP_A),
        lambda data: slow._read_for_update(data, learned.vocabulary).to_bytes(with_vocabulary=False),
    )

    # The snapshot keeps the relearned words
    assert vocabulary_digest_of(blobs.get(snapshot_key(REGION, "local", SHOP_A)).data) == relearned


def test_words_learned_from_enough_images_are_not_relearned(blobs) -> None:
    clock = Clock()
    writer = store(blobs, clock, relearn_min_images=1, relearn_until=1)
    writer.apply(SHOP_A, [image(f"{SHOP_A}/p1:i1", 1)], [])
    first = current(blobs)

    writer.apply(SHOP_A, [image(f"{SHOP_A}/p2:i1", 2), image(f"{SHOP_A}/p3:i1", 3)], [])

    assert current(blobs) == first and len(writer.index(None)) == 3
