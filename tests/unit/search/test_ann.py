"""AnnIndex: the in-function HNSW index, its filters and its snapshot format."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from chatshop.search.ann import FORMAT_VERSION, MAGIC, AnnIndex, HnswParams, SnapshotFormatError
from chatshop.search.vectors import VectorFilter, VectorMetadata, VectorRecord

DIM = 16


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def record(key: str, vector: np.ndarray, shop: str = "shop-a", country: str = "US", in_stock: bool = True):
    return VectorRecord(
        key, unit(np.asarray(vector, dtype=np.float32)), VectorMetadata(shop, country, in_stock)
    )


def random_records(count: int, seed: int = 0, dim: int = DIM, shops: int = 3) -> list[VectorRecord]:
    rng = np.random.default_rng(seed)
    return [
        record(
            f"p{i}",
            rng.standard_normal(dim),
            shop=f"shop-{i % shops}",
            country="US" if i % 2 else "DE",
            in_stock=i % 5 != 0,
        )
        for i in range(count)
    ]


def exact(records: list[VectorRecord], query: np.ndarray, limit: int, where: VectorFilter | None = None):
    accepted = [r for r in records if where is None or where.accepts(r.metadata)]
    ranked = sorted(accepted, key=lambda r: -float(unit(query) @ r.vector))
    return [r.key for r in ranked[:limit]]


def test_a_vector_finds_itself_first_with_a_cosine_score_of_one():
    # Given
    records = random_records(200)
    index = AnnIndex(DIM)
    index.upsert(records)

    # When
    hits = index.query(records[42].vector, 5)

    # Then
    assert len(index) == 200
    assert hits[0].key == "p42"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].metadata == records[42].metadata
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_upsert_replaces_vector_and_metadata_of_an_existing_key():
    index = AnnIndex(DIM)
    index.upsert(random_records(50))
    moved = record("p7", np.ones(DIM), shop="shop-z", country="FR", in_stock=False)

    index.upsert([moved])

    assert len(index) == 50
    top = index.query(np.ones(DIM, dtype=np.float32), 1)[0]
    assert top.key == "p7"
    assert top.metadata == VectorMetadata("shop-z", "FR", False)
    assert index.query(np.ones(DIM, dtype=np.float32), 1, VectorFilter(shop_id="shop-z"))[0].key == "p7"
    assert index.query(np.ones(DIM, dtype=np.float32), 50, VectorFilter(shop_id="shop-1"))[0].key != "p7"


def test_the_last_record_of_a_key_in_one_batch_wins():
    index = AnnIndex(DIM)
    first = np.eye(DIM)[0]
    last = np.eye(DIM)[1]

    index.upsert([record("p1", first, shop="old"), record("p1", last, shop="new")])

    assert len(index) == 1
    hit = index.query(last, 1)[0]
    assert (hit.key, hit.metadata.shop_id) == ("p1", "new")
    assert hit.score == pytest.approx(1.0, abs=1e-5)


def test_delete_removes_keys_ignores_unknown_ones_and_frees_slots_for_new_keys():
    records = random_records(30)
    index = AnnIndex(DIM)
    index.upsert(records)

    index.delete(["p3", "p4", "never-indexed", "p3"])

    assert len(index) == 28
    assert "p3" not in index and "p5" in index
    keys = {hit.key for hit in index.query(records[3].vector, 30)}
    assert keys.isdisjoint({"p3", "p4"})
    assert len(keys) == 28

    index.upsert([record("fresh", records[3].vector)])
    assert len(index) == 29
    assert index.query(records[3].vector, 1)[0].key == "fresh"


@pytest.mark.parametrize(
    "where",
    [
        VectorFilter(shop_id="shop-1"),
        VectorFilter(country="DE"),
        VectorFilter(in_stock_only=True),
        VectorFilter(shop_id="shop-2", country="US", in_stock_only=True),
    ],
)
@pytest.mark.parametrize("exact_scan_limit", [0, 10_000], ids=["over-fetch", "exact-scan"])
def test_filtered_queries_return_only_accepted_records_nearest_first(where, exact_scan_limit):
    # Given: both ways of answering a filter, from the graph and by an exact scan of the subset
    records = random_records(600, seed=3)
    index = AnnIndex(DIM, exact_scan_limit=exact_scan_limit)
    index.upsert(records)
    query = np.random.default_rng(9).standard_normal(DIM).astype(np.float32)

    # When
    hits = index.query(query, 10, where)

    # Then
    assert len(hits) == 10
    assert all(where.accepts(hit.metadata) for hit in hits)
    expected = exact(records, query, 10, where)
    assert len({hit.key for hit in hits} & set(expected)) >= 9


def test_a_rare_shop_in_a_large_index_still_gets_all_its_products_from_the_graph():
    # Given: 3 products of one shop among 3,000, answered by over-fetching (no exact scan)
    records = random_records(3000, seed=5, shops=1)
    rare = [record(f"rare{i}", np.random.default_rng(i).standard_normal(DIM), shop="rare") for i in range(3)]
    index = AnnIndex(DIM, exact_scan_limit=0)
    index.upsert(records + rare)

    # When: asked for more than the shop has
    hits = index.query(records[0].vector, 10, VectorFilter(shop_id="rare"))

    # Then: every one of them, and nothing else
    assert sorted(hit.key for hit in hits) == ["rare0", "rare1", "rare2"]


def test_empty_results_are_lists_not_errors():
    query = np.ones(DIM, dtype=np.float32)
    index = AnnIndex(DIM)
    assert index.query(query, 10) == []

    index.upsert(random_records(20))
    assert index.query(query, 0) == []
    assert index.query(query, 5, VectorFilter(shop_id="no-such-shop")) == []
    assert index.query(query, 5, VectorFilter(country="JP")) == []

    index.delete([f"p{i}" for i in range(20)])
    assert len(index) == 0
    assert index.query(query, 5) == []


def test_vectors_of_the_wrong_width_or_without_direction_are_refused():
    index = AnnIndex(DIM)
    with pytest.raises(ValueError, match="dimensions"):
        index.upsert([record("p1", np.ones(DIM + 1))])
    with pytest.raises(ValueError, match="dimensions"):
        index.query(np.ones(DIM - 1, dtype=np.float32), 3)
    with pytest.raises(ValueError, match="non-zero"):
        index.query(np.zeros(DIM, dtype=np.float32), 3)
    assert len(index) == 0


def test_a_snapshot_round_trip_keeps_keys_metadata_results_and_accepts_further_changes():
    # Given: an index with deletions, so the snapshot holds free slots too
    records = random_records(300, seed=11)
    index = AnnIndex(DIM, HnswParams(connectivity=8, expansion_add=64, expansion_search=48))
    index.upsert(records)
    index.delete(["p1", "p2"])
    query = records[100].vector

    # When
    loaded = AnnIndex.from_bytes(index.to_bytes())

    # Then
    assert len(loaded) == 298 and loaded.dimensions == DIM
    assert loaded.params == HnswParams(connectivity=8, expansion_add=64, expansion_search=48)
    assert loaded.query(query, 10) == index.query(query, 10)
    where = VectorFilter(country="DE", in_stock_only=True)
    assert loaded.query(query, 10, where) == index.query(query, 10, where)

    loaded.upsert([record("new", query, shop="shop-new")])
    loaded.delete(["p100"])
    assert len(loaded) == 298
    assert loaded.query(query, 1)[0].key == "new"
    assert AnnIndex.from_bytes(loaded.to_bytes()).query(query, 1)[0].metadata.shop_id == "shop-new"


def test_an_empty_index_round_trips():
    loaded = AnnIndex.from_bytes(AnnIndex(DIM).to_bytes())
    assert len(loaded) == 0
    assert loaded.query(np.ones(DIM, dtype=np.float32), 3) == []


def test_the_snapshot_header_is_json_naming_its_format_and_holding_no_pickle():
    index = AnnIndex(DIM)
    index.upsert(random_records(5))
    data = index.to_bytes()

    assert data.startswith(MAGIC)
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    header = json.loads(data[len(MAGIC) + 4 : len(MAGIC) + 4 + length])
    assert header["format"] == FORMAT_VERSION
    assert header["dimensions"] == DIM
    assert sorted(k for k in header["keys"] if k) == [f"p{i}" for i in range(5)]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"not a snapshot at all",
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data.replace(b'"format":1', b'"format":9', 1),
        lambda data: data[:10] + b"\xff" * 8 + data[18:],
    ],
    ids=["garbage", "empty", "truncated", "future-format", "corrupt-header"],
)
def test_unreadable_snapshots_raise_a_format_error(damage):
    index = AnnIndex(DIM)
    index.upsert(random_records(40))

    with pytest.raises(SnapshotFormatError):
        AnnIndex.from_bytes(damage(index.to_bytes()))


def test_recall_at_10_against_exact_search_on_clustered_vectors():
    # Given: 3,000 clustered 32-d vectors, as embeddings cluster
    rng = np.random.default_rng(21)
    dim = 32
    centres = rng.standard_normal((30, dim))
    points = centres[rng.integers(0, 30, 3100)] + 0.4 * rng.standard_normal((3100, dim))
    records = [record(f"p{i}", points[i]) for i in range(3000)]
    index = AnnIndex(dim)
    index.upsert(records)
    matrix = np.stack([r.vector for r in records])

    # When
    found = 0
    for query in points[3000:]:
        truth = set(np.argsort(-(matrix @ unit(query)))[:10].tolist())
        found += len({int(hit.key[1:]) for hit in index.query(query.astype(np.float32), 10)} & truth)

    # Then
    assert found / (100 * 10) >= 0.95


def test_the_search_beam_width_can_be_set_on_load_and_later():
    records = random_records(200, seed=2)
    index = AnnIndex(DIM)
    index.upsert(records)
    data = index.to_bytes()

    wide = AnnIndex.from_bytes(data, HnswParams(expansion_search=200))
    narrow = AnnIndex.from_bytes(data)
    narrow.set_expansion_search(24)

    assert wide.params.expansion_search == 200
    assert narrow.params == HnswParams(expansion_search=24)
    query = records[0].vector
    assert [hit.key for hit in wide.query(query, 5)] == exact(records, query, 5)
    assert narrow.query(query, 1)[0].key == "p0"
