"""Budget pacing: spend a campaign's day along the day's traffic, by probabilistic throttling.

Every refresh (five minutes) gives each campaign a *serve probability* ``p``: a decision lets the
campaign into its auction with probability ``p`` (LinkedIn's and Yahoo's "smart pacing" papers call
it the throttle rate). The refresh compares what the campaign spent in the interval just past with
what it should spend in the next one:

* the **target** for the rest of the day is the budget left, spread over the traffic still to come
  on the day's curve (not the clock: an evening hour with three times the visitors gets three
  times the spend), so a campaign that fell behind catches up and one ahead slows down;
* the campaign's **demand** (what it would spend unthrottled) is estimated from the last interval:
  its spend divided by the ``p`` it ran at, scaled by the ratio of the next interval's traffic to
  the last one's;
* the new ``p`` is target / demand, moved at most :data:`MAX_STEP` times up or down a run so one
  noisy interval cannot swing it, and kept in [:data:`MIN_P`, 1].

A campaign that spent nothing doubles its ``p`` (there was not enough traffic at the old one). A
new campaign starts at :data:`START_P`, not at 1: the first interval of an unpaced campaign with a
large audience could otherwise spend hours of budget in minutes. The budget itself is enforced
elsewhere (one conditional update per charge); pacing only decides how evenly it is reached.

The traffic curve is per country, by local hour, shifted onto the UTC day the spend counters use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MIN_P = 0.001
START_P = 0.25
MAX_STEP = 4.0
INTERVAL = timedelta(minutes=5)

# Share of a day's marketplace traffic in each local hour (0-23): the e-commerce shape (a night
# trough, a lunch bump, an evening peak), used until a region has its own measured curve.
DEFAULT_LOCAL_CURVE: tuple[float, ...] = (
    1.6, 1.0, 0.7, 0.5, 0.5, 0.7, 1.3, 2.3, 3.3, 4.1, 4.6, 5.0,
    5.4, 5.3, 5.0, 4.9, 5.0, 5.3, 5.8, 6.5, 7.1, 6.9, 5.5, 3.4,
)  # fmt: skip

# A representative zone per country, for shifting its curve onto the UTC day.
COUNTRY_ZONES = {
    "US": "America/Chicago",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "GB": "Europe/London",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "IN": "Asia/Kolkata",
}


@dataclass(frozen=True)
class PacingState:
    """What pacing remembers of a campaign between runs: the probability it served at, and its
    spend today when that was set (milli-minor units), in which UTC day."""

    p: float = START_P
    spent_today: int = 0
    day: str = ""


class TrafficCurve:
    """Shares of a UTC day's traffic by UTC hour (summing to 1), and their running total."""

    def __init__(self, hourly: Sequence[float]) -> None:
        if len(hourly) != 24 or any(share < 0 for share in hourly) or sum(hourly) <= 0:
            raise ValueError("a traffic curve is 24 non-negative hourly shares")
        total = sum(hourly)
        self.hourly = tuple(share / total for share in hourly)
        running = [0.0]
        for share in self.hourly:
            running.append(running[-1] + share)
        self._running = running

    def share_until(self, moment: datetime) -> float:
        """The share of the UTC day's traffic before ``moment`` (linear within an hour)."""
        moment = moment.astimezone(UTC)
        hour = moment.hour
        within = (moment.minute * 60 + moment.second + moment.microsecond / 1e6) / 3600
        return self._running[hour] + self.hourly[hour] * within

    def share_between(self, start: datetime, end: datetime) -> float:
        """The share of traffic in [start, end), both on one UTC day (end may be its midnight)."""
        end_share = (
            1.0 if end.astimezone(UTC).date() > start.astimezone(UTC).date() else self.share_until(end)
        )
        return max(end_share - self.share_until(start), 0.0)


@lru_cache(maxsize=64)
def curve_for(country: str, day: str) -> TrafficCurve:
    """The country's local curve on the UTC hours of ``day`` (yyyy-mm-dd; daylight saving counts)."""
    zone = ZoneInfo(COUNTRY_ZONES.get(country, "UTC"))
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC)
    hourly = [DEFAULT_LOCAL_CURVE[(midnight + timedelta(hours=h)).astimezone(zone).hour] for h in range(24)]
    return TrafficCurve(hourly)


def next_probability(
    state: PacingState,
    *,
    day_budget: int,
    spent_today: int,
    now: datetime,
    curve: TrafficCurve,
    interval: timedelta = INTERVAL,
) -> PacingState:
    """The campaign's pacing for the interval starting at ``now``, from what it spent in the last."""
    day = now.astimezone(UTC).date().isoformat()
    if state.day != day:
        # A new day: what was spent before midnight belongs to yesterday's counter.
        state = PacingState(p=state.p if state.day else START_P, spent_today=0, day=day)
    left = day_budget - spent_today
    if left <= 0:
        return PacingState(p=0.0, spent_today=spent_today, day=day)
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)
    remaining_share = curve.share_between(now, midnight)
    next_share = curve.share_between(now, min(now + interval, midnight))
    last_share = curve.share_between(max(now - interval, midnight - timedelta(days=1)), now)
    if remaining_share <= 0 or next_share <= 0:
        return PacingState(p=1.0, spent_today=spent_today, day=day)
    target = left * next_share / remaining_share
    spent_last = spent_today - state.spent_today
    old = max(state.p, MIN_P)
    if spent_last <= 0 or last_share <= 0:
        p = old * 2
    else:
        demand = spent_last / old * (next_share / last_share)
        p = min(max(target / demand, old / MAX_STEP), old * MAX_STEP)
    return PacingState(p=min(max(p, MIN_P), 1.0), spent_today=spent_today, day=day)


def day_budget(
    period: str, amount_milli: int, spent_lifetime: int, spent_today: int, end: datetime | None, now: datetime
) -> int:
    """What the campaign may spend today (milli-minor): its daily budget; or, for a lifetime budget,
    what is left of it spread evenly over the schedule's remaining days (30 without an end)."""
    if period == "daily":
        return amount_milli
    left = amount_milli - spent_lifetime + spent_today  # today's spend is part of today's allotment
    today = now.astimezone(UTC).date()
    days = (end.astimezone(UTC).date() - today).days + 1 if end is not None else 30
    return max(left, 0) // max(days, 1)
