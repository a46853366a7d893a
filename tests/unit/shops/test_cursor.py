"""Page cursors: opaque, and only good for the list that issued them."""

from __future__ import annotations

import pytest

from chatshop.platform.errors import ValidationFailed
from chatshop.shops.cursor import cursor_after, decode_cursor

KEYS = frozenset({"pk", "sk"})


def test_a_cursor_round_trips_for_its_own_partition():
    cursor = cursor_after({"pk": "SHOP#1", "sk": "PRODUCT#9"})
    assert decode_cursor(cursor, ("pk", "SHOP#1"), KEYS) == {"pk": {"S": "SHOP#1"}, "sk": {"S": "PRODUCT#9"}}


def test_no_cursor_means_the_first_page():
    assert decode_cursor(None, ("pk", "SHOP#1"), KEYS) is None
    assert decode_cursor("", ("pk", "SHOP#1"), KEYS) is None


def test_a_cursor_of_another_partition_is_refused():
    cursor = cursor_after({"pk": "SHOP#other", "sk": "PRODUCT#1"})
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, ("pk", "SHOP#1"), KEYS)
    assert refused.value.fields == ["cursor"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "bm90IGpzb24",  # "not json"
        cursor_after({"pk": "SHOP#1"}),  # a key missing
        cursor_after({"pk": "SHOP#1", "sk": "PRODUCT#1", "gsi1pk": "x"}),  # a key too many
        "A" * 5000,
    ],
)
def test_a_malformed_cursor_is_a_validation_error(cursor):
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, ("pk", "SHOP#1"), KEYS)
    assert refused.value.fields == ["cursor"]
