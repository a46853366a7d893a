"""Our filters in S3 Vectors' syntax, and the fake's reading of that syntax and of QueryVectors."""

from __future__ import annotations

import pytest

from chatshop.search.s3vectors import index_name, metadata_filter
from chatshop.search.vectors import VectorFilter
from chatshop_local.s3vectors_fake import S3VectorsService, ServiceError, matches

SHOE = {"shop_id": "s1", "country": "US", "in_stock": True, "tags": ["red", "sale"], "price": 30}


def test_filters_translate_to_eq_terms_joined_by_and():
    assert metadata_filter(VectorFilter()) is None
    assert metadata_filter(VectorFilter(shop_id="s1")) == {"shop_id": {"$eq": "s1"}}
    assert metadata_filter(VectorFilter(shop_id="s1", country="US", in_stock_only=True)) == {
        "$and": [{"shop_id": {"$eq": "s1"}}, {"country": {"$eq": "US"}}, {"in_stock": {"$eq": True}}]
    }


def test_index_names_follow_the_service_rules():
    assert index_name("eu-west-1", "image") == "products-image-eu-west-1"
    with pytest.raises(ValueError):
        index_name("eu-west-1", "Image_Space")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"shop_id": "s1"}, True),
        ({"shop_id": {"$eq": "s2"}}, False),
        ({"shop_id": {"$ne": "s2"}}, True),
        ({"country": {"$in": ["DE", "US"]}}, True),
        ({"country": {"$nin": ["DE", "US"]}}, False),
        ({"price": {"$gte": 30, "$lt": 31}}, True),
        ({"price": {"$gt": 30}}, False),
        ({"tags": "sale"}, True),
        ({"brand": {"$exists": False}}, True),
        ({"brand": {"$ne": "x"}}, True),
        ({"brand": "x"}, False),
        ({"$and": [{"shop_id": "s1"}, {"in_stock": True}]}, True),
        ({"$and": [{"shop_id": "s1"}, {"in_stock": False}]}, False),
        ({"$or": [{"shop_id": "s2"}, {"country": "US"}]}, True),
    ],
)
def test_the_fake_reads_the_documented_filter_operators(expression, expected):
    assert matches(expression, SHOE) is expected


def test_the_fake_refuses_unknown_operators():
    with pytest.raises(ServiceError) as raised:
        matches({"price": {"$near": 3}}, SHOE)
    assert (raised.value.status, raised.value.code) == (400, "ValidationException")


def test_query_vectors_answers_the_nearest_accepted_vectors_first_with_cosine_distances():
    # Given
    service = S3VectorsService()
    service.handle("CreateVectorBucket", {"vectorBucketName": "vectors"})
    where = {"vectorBucketName": "vectors", "indexName": "idx"}
    service.handle(
        "CreateIndex", {**where, "dataType": "float32", "dimension": 2, "distanceMetric": "cosine"}
    )
    service.handle(
        "PutVectors",
        {
            **where,
            "vectors": [
                {"key": "east", "data": {"float32": [1.0, 0.0]}, "metadata": {"shop_id": "s1"}},
                {"key": "north-east", "data": {"float32": [1.0, 1.0]}, "metadata": {"shop_id": "s2"}},
                {"key": "west", "data": {"float32": [-1.0, 0.0]}, "metadata": {"shop_id": "s1"}},
            ],
        },
    )

    # When
    query = {**where, "queryVector": {"float32": [1.0, 0.0]}, "topK": 2}
    everything = service.handle("QueryVectors", {**query, "returnDistance": True, "returnMetadata": True})
    shop_one = service.handle("QueryVectors", {**query, "filter": {"shop_id": "s1"}})

    # Then
    assert everything["distanceMetric"] == "cosine"
    assert [v["key"] for v in everything["vectors"]] == ["east", "north-east"]
    assert everything["vectors"][0]["distance"] == pytest.approx(0.0)
    assert everything["vectors"][1]["distance"] == pytest.approx(1 - 2**-0.5)
    assert everything["vectors"][1]["metadata"] == {"shop_id": "s2"}
    assert shop_one["vectors"] == [{"key": "east"}, {"key": "west"}]


def test_query_vectors_of_a_missing_index_or_a_bad_top_k_are_refused():
    service = S3VectorsService()
    service.handle("CreateVectorBucket", {"vectorBucketName": "vectors"})
    query = {"vectorBucketName": "vectors", "indexName": "idx", "queryVector": {"float32": [1.0]}, "topK": 1}
    with pytest.raises(ServiceError) as missing:
        service.handle("QueryVectors", query)
    assert missing.value.code == "NotFoundException"

    service.handle(
        "CreateIndex",
        {
            "vectorBucketName": "vectors",
            "indexName": "idx",
            "dataType": "float32",
            "dimension": 1,
            "distanceMetric": "cosine",
        },
    )
    with pytest.raises(ServiceError) as too_many:
        service.handle("QueryVectors", {**query, "topK": 101})
    assert too_many.value.code == "ValidationException"
