"""The vector index backends against the embedded AWS: ANN snapshots in S3 (ETag refresh,
conditional writes) and S3 Vectors (moto for the index and its vectors, our loopback fake for
QueryVectors, which moto does not serve), each driven through boto3 over HTTP."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.search.ann import AnnIndex
from chatshop.search.indexes import SearchIndexes
from chatshop.search.s3vectors import S3VectorsIndex
from chatshop.search.snapshots import UNCHANGED, BlobStore, CachedBlob, WriteConflict, snapshot_key
from chatshop.search.vectors import VectorFilter, VectorMetadata, VectorRecord
from chatshop_local.emulator import EMULATOR_CREDENTIALS, MotoServer, free_port
from chatshop_local.s3vectors_fake import S3VectorsFake

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
DIMS = {"image": 8, "text": 4}


@pytest.fixture(scope="module")
def moto_url():
    server = MotoServer(port=free_port())
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def aws_env(moto_url, monkeypatch):
    for name, value in EMULATOR_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3VECTORS", raising=False)
    aws.clear_clients()
    yield
    aws.clear_clients()


@pytest.fixture
def bucket(aws_env) -> str:
    name = f"search-index-{uuid.uuid4().hex[:12]}"
    aws.client("s3", Settings(region=REGION)).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


@pytest.fixture
def blobs(bucket) -> BlobStore:
    return BlobStore(aws.client("s3", Settings(region=REGION)), bucket)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def count_gets(store: BlobStore) -> list[str]:
    """Every GetObject the store's client sends, seen through botocore's own event hooks."""
    seen: list[str] = []
    store._s3.meta.events.register("before-call.s3.GetObject", lambda params, **_: seen.append("get"))
    return seen


def rec(key: str, shop: str, direction: int, dims: int = 8, country: str = "US", in_stock: bool = True):
    vector = np.full(dims, 0.05, dtype=np.float32)
    vector[direction % dims] = 1.0
    return VectorRecord(key, vector, VectorMetadata(shop, country, in_stock))


# --- blobs --------------------------------------------------------------------------------------


def test_conditional_writes_refuse_a_writer_that_did_not_see_the_latest_object(blobs):
    assert blobs.get("k") is None

    first = blobs.put("k", b"one")  # only if absent
    with pytest.raises(WriteConflict):
        blobs.put("k", b"two")  # "only if absent" again: it exists now
    second = blobs.put("k", b"two", if_match=first)
    with pytest.raises(WriteConflict):
        blobs.put("k", b"three", if_match=first)  # stale ETag

    found = blobs.get("k")
    assert found.data == b"two" and found.etag == second
    assert blobs.get("k", if_none_match=second) is UNCHANGED
    assert blobs.get("k", if_none_match=first).data == b"two"


def test_update_reapplies_a_change_on_top_of_a_concurrent_writer(blobs):
    blobs.put("list", b"a")
    calls = []

    def append_b(current: bytes | None) -> bytes:
        calls.append(current)
        if len(calls) == 1:  # another writer gets in between our read and our write
            blobs.put("list", current + b"x", if_match=blobs.get("list").etag)
        return current + b"b"

    result = blobs.update("list", append_b, sleep=lambda _: None)

    assert calls == [b"a", b"ax"]
    assert result.data == b"axb"
    assert blobs.get("list").data == b"axb"


def test_a_cached_blob_rereads_only_after_its_interval_and_only_when_the_etag_changed(blobs):
    # Given
    clock = Clock()
    gets = count_gets(blobs)
    blobs.put("lexical.json", b'{"v": 1}')
    cached = CachedBlob(blobs, "lexical.json", decode=bytes.decode, empty=str, check_every_s=5, clock=clock)

    # When / Then: loaded once
    assert cached.get() == '{"v": 1}'
    blobs.put("lexical.json", b'{"v": 2}', if_match=cached.etag)
    clock.now = 4.9
    assert cached.get() == '{"v": 1}'
    assert len(gets) == 1  # the first load only: no request within the interval

    # After the interval: the change is seen
    clock.now = 5.0
    assert cached.get() == '{"v": 2}'
    # Unchanged since: a conditional GET answers 304 and the value object is kept
    value = cached.get()
    clock.now = 10.0
    assert cached.get() is value

    # Deleted: empty
    blobs._s3.delete_object(Bucket=blobs.bucket, Key="lexical.json")
    clock.now = 20.0
    assert cached.get() == ""


# --- ANN snapshots through SearchIndexes ----------------------------------------------------------


def ann_indexes(bucket: str, clock: Clock) -> SearchIndexes:
    settings = Settings(region=REGION, search_backend="ann", search_index_bucket=bucket)
    return SearchIndexes(settings, REGION, DIMS, check_every_s=5, clock=clock)


def test_the_indexer_updates_shop_and_region_snapshots_and_search_sees_them_after_a_refresh(bucket):
    # Given: a search side that has already read the (empty) indexes
    clock = Clock()
    indexer, search = ann_indexes(bucket, Clock()), ann_indexes(bucket, clock)
    assert search.for_query("image", None).query(np.ones(8, dtype=np.float32), 5) == []

    # When: the indexer applies two shops' products
    indexer.apply("image", "shop-a", [rec("a1", "shop-a", 0), rec("a2", "shop-a", 1, in_stock=False)], [])
    indexer.apply("image", "shop-b", [rec("b1", "shop-b", 0, country="DE")], [])

    # Then: nothing new before the check interval, everything after it
    assert len(search.for_query("image", None)) == 0
    clock.now = 6
    region = search.for_query("image", None)
    assert {hit.key for hit in region.query(rec("q", "-", 0).vector, 10)} == {"a1", "a2", "b1"}
    shop_a = search.for_query("image", "shop-a")
    assert [hit.key for hit in shop_a.query(rec("q", "-", 1).vector, 10)] == ["a2", "a1"]
    assert [h.key for h in region.query(rec("q", "-", 1).vector, 10, VectorFilter(in_stock_only=True))][
        0
    ] == "a1"
    assert [h.key for h in region.query(rec("q", "-", 0).vector, 10, VectorFilter(country="DE"))] == ["b1"]
    assert len(search.for_query("text", None)) == 0

    # And a delete leaves both snapshots
    indexer.apply("image", "shop-a", [], ["a1"])
    clock.now = 12
    assert {hit.key for hit in search.for_query("image", None).query(rec("q", "-", 0).vector, 10)} == {
        "a2",
        "b1",
    }
    assert [hit.key for hit in search.for_query("image", "shop-a").query(rec("q", "-", 0).vector, 10)] == [
        "a2"
    ]


def test_snapshots_live_under_region_space_and_shop_keys(bucket):
    ann_indexes(bucket, Clock()).apply("text", "shop-a", [rec("a1", "shop-a", 0, dims=4)], [])

    listed = aws.client("s3", Settings(region=REGION)).list_objects_v2(Bucket=bucket)["Contents"]

    assert sorted(obj["Key"] for obj in listed) == [
        "indexes/eu-west-1/text/region.idx",
        "indexes/eu-west-1/text/shops/shop-a.idx",
    ]
    assert snapshot_key(REGION, "text", "shop-a") == "indexes/eu-west-1/text/shops/shop-a.idx"


def test_a_snapshot_of_another_model_width_reads_as_empty_and_is_replaced_on_the_next_write(bucket, blobs):
    old = AnnIndex(16)
    old.upsert([rec("stale", "shop-a", 0, dims=16)])
    blobs.put(snapshot_key(REGION, "image"), old.to_bytes())
    indexes = ann_indexes(bucket, Clock())

    assert len(indexes.for_query("image", None)) == 0
    indexes.apply("image", "shop-a", [rec("fresh", "shop-a", 0)], [])

    stored = AnnIndex.from_bytes(blobs.get(snapshot_key(REGION, "image")).data)
    assert stored.dimensions == 8 and "fresh" in stored and "stale" not in stored


def test_apply_refuses_records_of_another_shop(bucket):
    with pytest.raises(ValueError, match="another shop"):
        ann_indexes(bucket, Clock()).apply("image", "shop-a", [rec("b1", "shop-b", 0)], [])


# --- S3 Vectors -----------------------------------------------------------------------------------


@pytest.fixture
def vector_bucket(aws_env) -> str:
    name = f"vectors-{uuid.uuid4().hex[:12]}"
    aws.client("s3vectors", Settings(region=REGION)).create_vector_bucket(vectorBucketName=name)
    return name


def test_s3vectors_index_is_created_on_first_write_and_holds_puts_and_deletes_in_moto(vector_bucket):
    # Given
    client = aws.client("s3vectors", Settings(region=REGION))
    index = S3VectorsIndex(client, vector_bucket, "products-image-eu-west-1", 8)
    records = [rec(f"p{i}", f"shop-{i % 2}", i) for i in range(1_200)]  # three PutVectors batches

    # When
    index.upsert(records)
    index.delete([f"p{i}" for i in range(0, 1_200, 2)] + ["unknown"])

    # Then
    described = client.get_index(vectorBucketName=vector_bucket, indexName=index.name)["index"]
    assert (described["dimension"], described["distanceMetric"], described["dataType"]) == (
        8,
        "cosine",
        "float32",
    )
    assert len(index) == 600
    stored = client.get_vectors(
        vectorBucketName=vector_bucket,
        indexName=index.name,
        keys=["p1", "p2"],
        returnMetadata=True,
        returnData=True,
    )["vectors"]
    assert [(v["key"], v["metadata"]) for v in stored] == [
        ("p1", {"shop_id": "shop-1", "country": "US", "in_stock": True})
    ]
    assert np.linalg.norm(stored[0]["data"]["float32"]) == pytest.approx(1.0, abs=1e-5)

    # A second writer (another container) finds the index and leaves its vectors alone
    S3VectorsIndex(client, vector_bucket, index.name, 8).upsert([rec("extra", "shop-1", 3)])
    assert len(index) == 601


def test_s3vectors_index_refuses_an_existing_index_of_another_width(vector_bucket):
    client = aws.client("s3vectors", Settings(region=REGION))
    S3VectorsIndex(client, vector_bucket, "products-text-eu-west-1", 4).upsert([rec("p1", "s", 0, dims=4)])

    with pytest.raises(ValueError, match="re-create it"):
        S3VectorsIndex(client, vector_bucket, "products-text-eu-west-1", 8).upsert([rec("p1", "s", 0)])


@pytest.fixture
def s3vectors_fake(aws_env, monkeypatch):
    with S3VectorsFake(region=REGION) as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3VECTORS", fake.url)
        aws.clear_clients()
        fake.service.handle("CreateVectorBucket", {"vectorBucketName": "vectors-eu"})
        yield fake


def test_search_over_s3vectors_queries_through_boto3_with_shop_and_stock_filters(s3vectors_fake):
    # Given
    settings = Settings(region=REGION, search_backend="s3vectors", vector_bucket="vectors-eu")
    indexes = SearchIndexes(settings, REGION, DIMS)
    query = rec("q", "-", 0).vector
    assert indexes.for_query("image", None).query(query, 5) == []  # no index yet: empty, not an error

    indexes.apply("image", "shop-a", [rec("a0", "shop-a", 0), rec("a1", "shop-a", 1, in_stock=False)], [])
    indexes.apply("image", "shop-b", [rec("b0", "shop-b", 0, country="DE"), rec("b2", "shop-b", 2)], [])

    # When
    region = indexes.for_query("image", None).query(query, 10)
    shop_a = indexes.for_query("image", "shop-a").query(query, 10, VectorFilter(in_stock_only=True))
    shop_b_in_de = indexes.for_query("image", "shop-b").query(query, 10, VectorFilter(country="DE"))
    crossed = indexes.for_query("image", "shop-b").query(query, 10, VectorFilter(shop_id="shop-a"))

    # Then
    assert [hit.key for hit in region[:2]] == ["a0", "b0"] or [hit.key for hit in region[:2]] == ["b0", "a0"]
    assert region[0].score == pytest.approx(1.0, abs=1e-5)
    assert [hit.score for hit in region] == sorted((hit.score for hit in region), reverse=True)
    assert len(region) == 4
    assert [(hit.key, hit.metadata) for hit in shop_a] == [("a0", VectorMetadata("shop-a", "US", True))]
    assert [hit.key for hit in shop_b_in_de] == ["b0"]
    assert crossed == []
    assert "QueryVectors" in s3vectors_fake.service.calls

    # And a delete leaves the index
    indexes.apply("image", "shop-a", [], ["a0"])
    assert [hit.key for hit in indexes.for_query("image", "shop-a").query(query, 10)] == ["a1"]
