"""The user side of ads, pure parts: cap windows, the decayed profile, special categories, chat keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatshop.ads.users import (
    AFFINITY_HALF_LIFE,
    MAX_AFFINITIES,
    cap_sk,
    chat_user_key,
    context_of,
    decayed,
    grown,
    is_special_category,
    window_end,
    window_start,
)

# A Wednesday.
NOW = datetime(2026, 12, 2, 14, 35, tzinfo=UTC)


def cap(campaign: str, window: str, when: datetime, n: int) -> dict:
    return {"sk": {"S": cap_sk(campaign, window, when)}, "n": {"N": str(n)}}


def consent(state: str) -> dict:
    return {"sk": {"S": "CONSENT#personalised_ads"}, "state": {"S": state}}


def profile(scores: dict[str, float], at: datetime) -> dict:
    return {
        "sk": {"S": "PROFILE"},
        "affinities": {"M": {k: {"N": str(v)} for k, v in scores.items()}},
        "decayed_to": {"S": at.isoformat()},
    }


def test_windows_are_calendar_hours_days_and_iso_weeks_in_utc():
    assert window_start("hour", NOW) == "2026-12-02T14"
    assert window_start("day", NOW) == "2026-12-02"
    assert window_start("week", NOW) == "2026-W49"
    assert window_end("hour", NOW) == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert window_end("day", NOW) == datetime(2026, 12, 3, tzinfo=UTC)
    assert window_end("week", NOW) == datetime(2026, 12, 7, tzinfo=UTC)  # the next Monday
    # A time in another zone is the same instant.
    berlin = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert window_start("day", berlin) == "2026-12-02"


def test_only_the_current_window_counts_toward_a_cap():
    items = [
        cap("c1", "hour", NOW, 2),
        cap("c1", "hour", NOW - timedelta(hours=1), 9),  # the last hour, lingering until its TTL
        cap("c1", "day", NOW, 5),
        cap("c1", "week", NOW - timedelta(days=7), 40),  # last week
        cap("c2", "week", NOW, 1),
    ]
    user = context_of(items, NOW)
    assert user.impressions("c1", "hour") == 2
    assert user.impressions("c1", "day") == 5
    assert user.impressions("c1", "week") == 0
    assert user.impressions("c2", "week") == 1
    assert user.impressions("c3", "day") == 0


def test_a_profile_is_used_only_with_consent_given_and_never_for_a_minor():
    items = [profile({"outdoor": 2.0}, NOW)]
    assert context_of(items, NOW).affinities == {}
    assert not context_of(items, NOW).personalised
    assert context_of([*items, consent("withdrawn")], NOW).affinities == {}
    assert context_of([*items, consent("objected")], NOW).affinities == {}
    given = context_of([*items, consent("given")], NOW)
    assert given.personalised and given.affinities == pytest.approx({"outdoor": 2.0})
    minor = context_of([*items, consent("given"), {"sk": {"S": "FLAGS"}, "minor": {"BOOL": True}}], NOW)
    assert minor.minor and not minor.personalised and minor.affinities == {}


def test_affinities_halve_every_half_life_and_fade_out():
    one_half_life = decayed({"outdoor": 4.0}, NOW, NOW + AFFINITY_HALF_LIFE)
    assert one_half_life == pytest.approx({"outdoor": 2.0})
    assert decayed({"outdoor": 1.0}, NOW, NOW + 10 * AFFINITY_HALF_LIFE) == {}
    # A clock behind never makes interest grow.
    assert decayed({"outdoor": 1.0}, NOW, NOW - timedelta(days=3)) == {"outdoor": 1.0}


def test_a_profile_read_is_decayed_to_the_moment_of_the_decision():
    items = [profile({"outdoor": 8.0}, NOW - 2 * AFFINITY_HALF_LIFE), consent("given")]
    assert context_of(items, NOW).affinities == pytest.approx({"outdoor": 2.0})


def test_a_profile_keeps_its_strongest_categories():
    scores = {f"c{i}": float(i) for i in range(MAX_AFFINITIES)}
    out = grown(scores, "new", 0.5)
    assert len(out) == MAX_AFFINITIES and "new" in out and "c0" not in out


@pytest.mark.parametrize(
    "category",
    [
        "Health & Beauty > Vitamins",
        "religious-books",
        "Sexual Wellness",
        "mental health apps",
        "PHARMACY",
        "Adult",
    ],
)
def test_special_categories_are_recognised(category):
    assert is_special_category(category)


@pytest.mark.parametrize("category", ["Outdoor > Tents", "Books", "Kitchen", "", None, "wealth management"])
def test_ordinary_categories_are_not_special(category):
    assert not is_special_category(category)


def test_a_special_category_in_a_stored_profile_is_never_handed_to_a_decision():
    items = [profile({"outdoor": 1.0, "pharmacy": 5.0}, NOW), consent("given")]
    assert set(context_of(items, NOW).affinities) == {"outdoor"}


def test_a_chat_user_key_is_stable_keyed_and_says_nothing_of_the_number():
    secret = b"user-key-secret-of-some-length"
    key = chat_user_key("+1 555 123 4567", secret)
    assert key == chat_user_key("15551234567", secret)
    assert key != chat_user_key("15551234567", b"another-secret-of-some-length")
    assert key != chat_user_key("15551234568", secret)
    assert "5551234567" not in key and key.startswith("wa_")
    import re

    from chatshop.privacy.consent import USER_KEY_PATTERN

    assert re.fullmatch(USER_KEY_PATTERN, key)
