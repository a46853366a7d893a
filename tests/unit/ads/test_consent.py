"""Consent input: every field checked as the document says, so a bad choice is refused whole."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatshop.platform.errors import ValidationFailed
from chatshop.privacy.consent import ConsentChange, check_user_key

GOOD = {"purpose": "personalised_ads", "state": "given", "wording": "Yes, personalise", "source": "whatsapp"}


@pytest.mark.parametrize("state", ["given", "withdrawn", "objected"])
def test_giving_withdrawing_and_objecting_are_one_shape(state):
    assert ConsentChange.model_validate(GOOD | {"state": state}).state == state


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "marketing"}, "purpose"),
        ({"state": "later"}, "state"),
        ({"wording": ""}, "wording"),
        ({"wording": "   "}, "wording"),
        ({"wording": "x" * 2001}, "wording"),
        ({"source": "cookie banner"}, "source"),
        ({"language": "English"}, "language"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_field_is_named(change, field):
    with pytest.raises(ValidationError) as error:
        ConsentChange.model_validate(GOOD | change)
    assert field in {str(e["loc"][0]) for e in error.value.errors()}


@pytest.mark.parametrize("key", ["u_0123456789abcdef", "wa_" + "A" * 32, "x" * 64])
def test_pseudonymous_keys_pass(key):
    assert check_user_key(key) == key


@pytest.mark.parametrize(
    "key", ["short", "x" * 65, "alice@example.com", "with space 0123456789", "+15551234567890"]
)
def test_anything_else_is_refused_as_user_key(key):
    with pytest.raises(ValidationFailed) as error:
        check_user_key(key)
    assert error.value.fields == ["user_key"]
