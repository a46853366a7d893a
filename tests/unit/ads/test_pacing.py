"""Pacing: the throttle follows the day's traffic curve, catches up when behind, slows when ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatshop.ads.pacing import (
    MAX_STEP,
    MIN_P,
    START_P,
    PacingState,
    TrafficCurve,
    curve_for,
    day_budget,
    next_probability,
)

FLAT = TrafficCurve([1.0] * 24)
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_curve_sums_to_one_and_interpolates_within_the_hour():
    curve = TrafficCurve([0.0] * 12 + [2.0] + [1.0] * 11)
    assert sum(curve.hourly) == pytest.approx(1.0)
    assert curve.share_until(NOON) == pytest.approx(0.0)
    assert curve.share_until(NOON + timedelta(minutes=30)) == pytest.approx(curve.hourly[12] / 2)
    assert curve.share_between(NOON, NOON.replace(hour=0) + timedelta(days=1)) == pytest.approx(1.0)


def test_a_countrys_curve_is_shifted_onto_the_utc_day():
    us, de = curve_for("US", "2026-12-02"), curve_for("DE", "2026-12-02")
    # The evening peak: about 20:00 local, i.e. 02:00 UTC in Chicago and 19:00 UTC in Berlin.
    assert max(range(24), key=lambda h: us.hourly[h]) in (1, 2, 3)
    assert max(range(24), key=lambda h: de.hourly[h]) in (18, 19, 20)


def test_a_new_campaign_starts_throttled_and_doubles_while_it_spends_nothing():
    state = next_probability(PacingState(), day_budget=1000, spent_today=0, now=NOON, curve=FLAT)
    assert state.p == pytest.approx(START_P * 2)
    again = next_probability(
        state, day_budget=1000, spent_today=0, now=NOON + timedelta(minutes=5), curve=FLAT
    )
    assert again.p == pytest.approx(min(1.0, START_P * 4))


def test_spending_twice_the_target_halves_the_probability():
    # Flat traffic, half the day left, 24,000 left: the next 5 minutes' target is 24000/144 = 166.7.
    state = PacingState(p=0.5, spent_today=24_000 - 333, day="2026-12-02")
    after = next_probability(state, day_budget=48_000, spent_today=24_000, now=NOON, curve=FLAT)
    assert after.p == pytest.approx(0.25, rel=0.02)


def test_a_step_is_bounded_and_p_stays_in_range():
    state = PacingState(p=0.2, spent_today=0, day="2026-12-02")
    flood = next_probability(state, day_budget=10**9, spent_today=10**8, now=NOON, curve=FLAT)
    assert flood.p == pytest.approx(0.2 / MAX_STEP) or flood.p >= MIN_P
    tiny = next_probability(state, day_budget=10**9, spent_today=1, now=NOON, curve=FLAT)
    assert tiny.p == pytest.approx(min(1.0, 0.2 * MAX_STEP))


def test_a_spent_day_stops_and_a_new_day_starts_from_zero():
    spent = next_probability(
        PacingState(p=0.5, day="2026-12-02"), day_budget=100, spent_today=100, now=NOON, curve=FLAT
    )
    assert spent.p == 0.0
    tomorrow = next_probability(
        spent, day_budget=100, spent_today=0, now=NOON + timedelta(days=1), curve=FLAT
    )
    assert tomorrow.day == "2026-12-03" and tomorrow.p > 0


def test_a_lifetime_budget_is_spread_over_the_days_left():
    end = NOON + timedelta(days=9)
    assert day_budget("lifetime", 10_000, 0, 0, end, NOON) == 1_000
    assert day_budget("lifetime", 10_000, 4_000, 500, end, NOON) == 650
    assert day_budget("daily", 700, 10**6, 0, None, NOON) == 700
