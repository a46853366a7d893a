"""Lambda's FilterCriteria patterns, as the local stream mappings apply them to records."""

from __future__ import annotations

import pytest

from chatshop_local.event_filters import FilterPatternError, matches, parse_pattern, passes

PRODUCT_INSERT = {
    "eventName": "INSERT",
    "dynamodb": {
        "Keys": {"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#p1"}},
        "NewImage": {"availability": {"S": "in stock"}, "tags": {"SS": ["red", "sale"]}},
        "SizeBytes": 120,
    },
    "flag": True,
}

TEMPLATE_PATTERN = (
    '{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "SHOP#"}]}, "sk": {"S": [{"prefix": "PRODUCT#"}]}}}}'
)


@pytest.mark.parametrize(
    "pattern",
    [
        TEMPLATE_PATTERN,
        '{"eventName": ["INSERT", "MODIFY"]}',
        '{"dynamodb": {"Keys": {"sk": {"S": [{"suffix": "p1"}]}}}}',
        '{"eventName": [{"anything-but": ["REMOVE"]}]}',
        '{"eventName": [{"anything-but": {"prefix": "REM"}}]}',
        '{"eventName": [{"equals-ignore-case": "insert"}]}',
        '{"dynamodb": {"SizeBytes": [{"numeric": [">", 100, "<=", 120]}]}}',
        '{"dynamodb": {"OldImage": [{"exists": false}]}}',
        '{"dynamodb": {"NewImage": {"availability": [{"exists": true}]}}}',
        '{"dynamodb": {"NewImage": {"tags": {"SS": ["sale"]}}}}',
        '{"flag": [true]}',
    ],
)
def test_records_matching_a_pattern_pass(pattern):
    assert matches(parse_pattern(pattern), PRODUCT_INSERT)


@pytest.mark.parametrize(
    "pattern",
    [
        '{"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "IMPORT#"}]}}}}',
        '{"eventName": ["REMOVE"]}',
        '{"eventName": [{"anything-but": "INSERT"}]}',
        '{"dynamodb": {"SizeBytes": [{"numeric": ["<", 100]}]}}',
        '{"dynamodb": {"NewImage": [{"exists": false}]}}',
        '{"dynamodb": {"OldImage": {"availability": [{"exists": true}]}}}',
        '{"missing": ["x"]}',
        '{"flag": [1]}',
    ],
)
def test_records_not_matching_a_pattern_are_filtered_out(pattern):
    assert not matches(parse_pattern(pattern), PRODUCT_INSERT)


def test_the_template_pattern_keeps_only_product_items():
    pattern = parse_pattern(TEMPLATE_PATTERN)
    index_state = {"dynamodb": {"Keys": {"pk": {"S": "INDEXSTATE#1"}, "sk": {"S": "PRODUCT#p1"}}}}
    shop = {"dynamodb": {"Keys": {"pk": {"S": "SHOP#1"}, "sk": {"S": "PROFILE"}}}}
    assert passes([pattern], PRODUCT_INSERT)
    assert not passes([pattern], index_state)
    assert not passes([pattern], shop)


def test_any_one_pattern_of_several_lets_a_record_through_and_none_means_all():
    removes = parse_pattern('{"eventName": ["REMOVE"]}')
    inserts = parse_pattern('{"eventName": ["INSERT"]}')
    assert passes([removes, inserts], PRODUCT_INSERT)
    assert not passes([removes], PRODUCT_INSERT)
    assert passes([], PRODUCT_INSERT)


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        "[]",
        "{}",
        '{"eventName": "INSERT"}',
        '{"eventName": []}',
        '{"eventName": [{"wildcard": "IN*"}]}',
        '{"eventName": [{"prefix": 1}]}',
        '{"eventName": [{"exists": "yes"}]}',
        '{"dynamodb": {"SizeBytes": [{"numeric": ["~", 1]}]}}',
        '{"eventName": [["INSERT"]]}',
    ],
)
def test_a_pattern_this_runtime_cannot_honour_is_refused(pattern):
    with pytest.raises(FilterPatternError):
        parse_pattern(pattern)
