"""Consent input: every field checked as the document says, so a bad choice is refused whole."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatshop.platform.errors import FeatureNotAvailable, ValidationFailed
from chatshop.platform.rollout import load_rollout
from chatshop.privacy.consent import ConsentChange, check_user_key, require_home_region

GOOD = {
    "purpose": "personalised_ads",
    "state": "given",
    "wording": "Yes, personalise",
    "source": "whatsapp",
    "country": "DE",
}


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
        ({"country": "de"}, "country"),
        ({"country": "DEU"}, "country"),
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


def test_a_consent_without_a_country_is_refused_naming_it():
    body = dict(GOOD)
    del body["country"]
    with pytest.raises(ValidationError) as error:
        ConsentChange.model_validate(body)
    assert "country" in {str(e["loc"][0]) for e in error.value.errors()}


def test_a_consent_is_taken_only_in_its_country_s_home_region():
    rollout = load_rollout()
    require_home_region(rollout, "DE", "eu-west-1")
    require_home_region(rollout, "US", "us-east-1")
    for country, region in (
        ("DE", "us-east-1"),
        ("US", "eu-west-1"),
        ("BR", "eu-west-1"),
        ("AQ", "us-east-1"),
    ):
        with pytest.raises(FeatureNotAvailable) as error:
            require_home_region(rollout, country, region)
        assert error.value.status == 403 and error.value.country == country
