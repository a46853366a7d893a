"""Signed ad event tokens: genuine ones verify; forged, altered, expired or foreign ones never do."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from chatshop.ads.tokens import (
    CLICK,
    IMPRESSION,
    EventKeys,
    InvalidKeyring,
    cpc_price_milli,
    cpm_price_milli,
    kind_hint,
    sign_event,
    verify,
)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
KEYS = EventKeys.parse("1:a-signing-key-of-32-characters!")
DECISION = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CAMPAIGN = "c" * 2 + "0123456789abcdef0123456789abcd"


def token(kind=IMPRESSION, keys=KEYS, now=NOW, **fields):
    values = {
        "decision_id": DECISION,
        "campaign_id": CAMPAIGN,
        "ad_id": "ad-1",
        "user_key": "u_0123456789abcdef",
        "price_milli": 450,
        "category": "outdoor",
        "destination": "https://shop.example/p/42?utm=ads",
    } | fields
    return sign_event(keys, kind=kind, now=now, **({"region": "eu-west-1"} | values))


def test_a_genuine_token_gives_back_everything_signed_into_it():
    claim = verify(KEYS, token(CLICK), NOW + timedelta(hours=1))
    assert claim is not None
    assert (claim.kind, claim.decision_id, claim.campaign_id, claim.ad_id) == (
        CLICK,
        DECISION,
        CAMPAIGN,
        "ad-1",
    )
    assert (claim.user_key, claim.price_milli, claim.category) == ("u_0123456789abcdef", 450, "outdoor")
    assert claim.destination == "https://shop.example/p/42?utm=ads"
    assert claim.expires_at == int((NOW + timedelta(hours=24)).timestamp())


def test_a_token_is_url_safe_and_compact():
    value = token(destination=None, category=None)
    assert value.isascii() and set(value) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    )
    # Hex ids travel as bytes, half their length: two 32-character ids, a user key, a price, an expiry,
    # the minting region and the signature fit in under 135 characters.
    assert len(value) < 135


def test_an_anonymous_event_has_no_user_key():
    claim = verify(KEYS, token(user_key=None), NOW)
    assert claim is not None and claim.user_key is None


@pytest.mark.parametrize("at", [timedelta(hours=24), timedelta(hours=25), timedelta(days=30)])
def test_an_expired_token_does_not_verify(at):
    assert verify(KEYS, token(), NOW + at) is None


def test_a_token_signed_with_another_key_does_not_verify():
    other = EventKeys.parse("1:another-key-nobody-here-knows!!")
    assert verify(KEYS, token(keys=other), NOW) is None


def test_every_altered_byte_breaks_the_signature():
    genuine = token()
    raw = bytearray(base64.urlsafe_b64decode(genuine[1:] + "=" * (-len(genuine[1:]) % 4)))
    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x01
        forged = genuine[0] + base64.urlsafe_b64encode(bytes(altered)).rstrip(b"=").decode()
        assert verify(KEYS, forged, NOW) is None, f"byte {index} altered still verifies"


def test_a_kind_letter_swapped_in_the_clear_does_not_verify():
    genuine = token(IMPRESSION)
    assert verify(KEYS, "c" + genuine[1:], NOW) is None


@pytest.mark.parametrize("junk", ["", "i", "c", "x" * 40, "i!!!!", "c" + "A" * 2000, "iAAAA", "i" + "_" * 64])
def test_junk_is_refused_without_an_exception(junk):
    assert verify(KEYS, junk, NOW) is None


def test_a_rotated_out_key_still_verifies_while_in_the_ring_and_not_after():
    old = EventKeys.parse("1:a-signing-key-of-32-characters!")
    issued = token(keys=old)
    rotated = EventKeys.parse("2:the-new-signing-key-of-32-chars, 1:a-signing-key-of-32-characters!")
    assert verify(rotated, issued, NOW) is not None
    assert verify(rotated, token(keys=rotated), NOW) is not None
    assert verify(EventKeys.parse("2:the-new-signing-key-of-32-chars"), issued, NOW) is None


def test_impression_and_click_of_one_ad_are_two_events_and_one_ad_twice_is_one():
    impression = verify(KEYS, token(IMPRESSION), NOW)
    click = verify(KEYS, token(CLICK), NOW)
    again = verify(KEYS, token(IMPRESSION, now=NOW + timedelta(minutes=5)), NOW)
    other_ad = verify(KEYS, token(IMPRESSION, ad_id="ad-2"), NOW)
    assert impression.event_id != click.event_id
    assert impression.event_id == again.event_id
    assert impression.event_id != other_ad.event_id


def test_a_destination_that_is_not_a_web_url_is_never_signed():
    for destination in (
        "javascript:alert(1)",
        "//evil.example/",
        "ftp://x.example/",
        "https://user@evil.example/",
    ):
        with pytest.raises(ValueError):
            token(destination=destination)


def test_the_answer_to_a_forged_token_follows_its_kind_letter():
    assert kind_hint("c-anything") == CLICK
    assert kind_hint("i-anything") == IMPRESSION
    assert kind_hint("") == IMPRESSION


def test_prices_in_milli_minor_units():
    assert cpm_price_milli(500) == 500  # $5 CPM: half a cent an impression
    assert cpc_price_milli(40) == 40_000


@pytest.mark.parametrize(
    "text", ["", "nokey", "x:secret-of-sixteen-chars", "1:short", "300:secret-of-sixteen-chars"]
)
def test_a_bad_keyring_is_refused(text):
    with pytest.raises(InvalidKeyring):
        EventKeys.parse(text)


def test_a_token_names_the_region_that_minted_it_under_its_signature():
    claim = verify(KEYS, token(region="sa-east-1"), NOW)
    assert claim is not None and claim.region == "sa-east-1"
    with pytest.raises(ValueError):
        token(region="")


def test_an_impression_carries_the_cap_window_its_decision_reserved_it_in():
    assert verify(KEYS, token(reserved="day"), NOW).reserved == "day"
    assert verify(KEYS, token(), NOW).reserved is None
    with pytest.raises(ValueError):
        token(CLICK, reserved="day")  # only an impression counts against a cap
    with pytest.raises(ValueError):
        token(reserved="month")
