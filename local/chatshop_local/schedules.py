"""When SAM `Schedule` / `ScheduleV2` events fire, and the event a function receives when they do.

Pure and deterministic: nothing here reads the wall clock, sleeps or starts threads; the local clock
passes every moment in. Three expression kinds are understood, with AWS's documented syntax:

* ``rate(value unit)``: every ``value`` minutes, hours or days (a day is 24 hours, as in AWS).
  Unit ``minute``/``hour``/``day`` when the value is 1, ``minutes``/``hours``/``days`` otherwise.
  A rate has no fixed phase in AWS (it starts when the rule is created), so a local schedule is
  given an *anchor*, the moment the clock starts: it fires at ``anchor + k * period`` for every
  ``k >= 0``, and ``next_after(anchor)`` is therefore ``anchor + period``.
* ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``: EventBridge's six-field cron, read in
  the schedule's IANA time zone (``ScheduleExpressionTimezone`` of a ScheduleV2 event; UTC for a
  Schedule event). Around daylight saving changes it behaves as EventBridge Scheduler documents: a
  local time the clocks skip never fires, and a local time that happens twice fires only once (the
  first time).
* ``at(yyyy-mm-ddThh:mm:ss)``: a one-time (Scheduler) schedule, at that local time in the time zone
  (a time that happens twice means the first; one the clocks skip is read with the offset before
  the change, so 02:30 on a night that springs forward from 02:00 to 03:00 fires at 03:30).

All datetimes passed in must be timezone-aware; every datetime returned is in UTC.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Schedule",
    "ScheduleExpressionError",
    "parse_schedule",
    "scheduled_event",
]

ScheduleKind = Literal["rate", "cron", "at"]


class ScheduleExpressionError(ValueError):
    """A schedule expression (or its time zone) that AWS would not accept."""


# ---------------------------------------------------------------------------------------------------
# rate(...)

_RATE_UNITS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}


def _parse_rate(expression: str, body: str) -> timedelta:
    parts = body.split()
    if len(parts) != 2:
        raise ScheduleExpressionError(
            f"{expression!r}: a rate expression is 'rate(value unit)', e.g. 'rate(5 minutes)'"
        )
    value_text, unit = parts
    if not value_text.isascii() or not value_text.isdigit() or int(value_text) < 1:
        raise ScheduleExpressionError(
            f"{expression!r}: rate value must be a positive whole number, not {value_text!r}"
        )
    value = int(value_text)
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise ScheduleExpressionError(
            f"{expression!r}: rate unit must be one of minute, minutes, hour, hours, day, days, not {unit!r}"
        )
    if value == 1 and unit != singular:
        raise ScheduleExpressionError(
            f"{expression!r}: a rate of 1 takes a singular unit: 'rate(1 {singular})'"
        )
    if value > 1 and unit == singular:
        raise ScheduleExpressionError(
            f"{expression!r}: a rate above 1 takes a plural unit: 'rate({value} {singular}s)'"
        )
    return value * _RATE_UNITS[singular]


# ---------------------------------------------------------------------------------------------------
# cron(...)

_MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
# AWS (and Quartz) number the days of the week 1 = SUN .. 7 = SAT.
_DAY_NAMES = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}
_SATURDAY = 7


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] = field(default_factory=dict)
    increments: bool = True

    def describe(self) -> str:
        text = f"{self.low}-{self.high}"
        if self.names:
            ordered = sorted(self.names, key=self.names.__getitem__)
            text += f" or {ordered[0]}-{ordered[-1]}"
        return text


_MINUTES = _Field("minutes", 0, 59)
_HOURS = _Field("hours", 0, 23)
_DAY_OF_MONTH = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTH_NAMES)
_DAY_OF_WEEK = _Field("day-of-week", 1, 7, _DAY_NAMES, increments=False)
_YEAR = _Field("year", 1970, 2199)

# Which days of a month match: given (year, month), the matching days in ascending order.
_DaysOfMonth = Callable[[int, int], list[int]]


def _aws_weekday(day: date) -> int:
    """1 = Sunday .. 7 = Saturday (date.weekday() is 0 = Monday .. 6 = Sunday)."""
    return (day.weekday() + 1) % 7 + 1


def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


class _CronParser:
    def __init__(self, expression: str) -> None:
        self.expression = expression

    def error(self, spec: _Field, text: str, problem: str) -> ScheduleExpressionError:
        return ScheduleExpressionError(f"{self.expression!r}: {spec.name} field {text!r}: {problem}")

    def value(self, spec: _Field, whole: str, text: str) -> int:
        if text.isascii() and text.isdigit():
            number = int(text)
        elif text.upper() in spec.names:
            number = spec.names[text.upper()]
        else:
            raise self.error(spec, whole, f"{text!r} is not a value (expected {spec.describe()})")
        if not spec.low <= number <= spec.high:
            raise self.error(spec, whole, f"{number} is out of range (expected {spec.describe()})")
        return number

    def values(self, spec: _Field, text: str) -> frozenset[int]:
        """The values a field of `,` `-` `*` `/` items stands for."""
        result: set[int] = set()
        for item in text.split(","):
            if not item:
                raise self.error(spec, text, "empty item in list")
            result.update(self.item(spec, text, item))
        return frozenset(result)

    def item(self, spec: _Field, whole: str, item: str) -> Iterable[int]:
        if item == "?":
            raise self.error(spec, whole, "'?' is only allowed alone in day-of-month or day-of-week")
        base, slash, step_text = item.partition("/")
        if slash and not spec.increments:
            raise self.error(spec, whole, "'/' increments are not allowed in this field")
        if base == "*":
            low, high = spec.low, spec.high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            low, high = self.value(spec, whole, start_text), self.value(spec, whole, end_text)
            if low > high:
                raise self.error(
                    spec,
                    whole,
                    f"range {base} runs backwards; list the two parts instead, "
                    f"e.g. {start_text}-{spec.high},{spec.low}-{end_text}",
                )
        else:
            low = self.value(spec, whole, base)
            # `a/n` runs from a to the end of the field; a lone `a` is just a.
            high = spec.high if slash else low
        if not slash:
            return range(low, high + 1)
        if not (step_text.isascii() and step_text.isdigit()) or int(step_text) < 1:
            raise self.error(spec, whole, f"increment {step_text!r} must be a positive whole number")
        step = int(step_text)
        if step > spec.high - spec.low + 1:
            raise self.error(spec, whole, f"increment {step} is larger than the field ({spec.describe()})")
        return range(low, high + 1, step)

    def day_of_month(self, text: str) -> _DaysOfMonth:
        spec = _DAY_OF_MONTH
        upper = text.upper()
        if upper == "L":
            return lambda year, month: [_month_length(year, month)]
        if upper == "LW":
            return _last_weekday_of_month
        if upper.endswith("W") and text[:-1].isascii() and text[:-1].isdigit():
            target = self.value(spec, text, text[:-1])
            return lambda year, month: _nearest_weekday(year, month, target)
        if "L" in upper or "W" in upper:
            raise self.error(
                spec, text, "'L', 'LW' and 'nW' must stand alone (no lists, ranges or increments)"
            )
        days = self.values(spec, text)
        return lambda year, month: sorted(d for d in days if d <= _month_length(year, month))

    def day_of_week(self, text: str) -> _DaysOfMonth:
        spec = _DAY_OF_WEEK
        upper = text.upper()
        if upper == "L":  # the last day of the week: every Saturday
            return _weekdays_in({_SATURDAY})
        if "#" in text:
            if "," in text or "-" in text:
                raise self.error(spec, text, "'#' must stand alone (only one 'day#n' in the field)")
            day_text, _, nth_text = text.partition("#")
            weekday = self.value(spec, text, day_text)
            if not (nth_text.isascii() and nth_text.isdigit()) or not 1 <= int(nth_text) <= 5:
                raise self.error(spec, text, f"occurrence {nth_text!r} after '#' must be 1-5")
            nth = int(nth_text)
            return lambda year, month: _nth_weekday(year, month, weekday, nth)
        if upper.endswith("L"):
            if "," in text or "-" in text:
                raise self.error(spec, text, "'dayL' must stand alone (no lists or ranges)")
            weekday = self.value(spec, text, text[:-1])
            return lambda year, month: _last_weekday(year, month, weekday)
        if "L" in upper:
            raise self.error(spec, text, "'L' must stand alone or follow one day, as in '6L'")
        return _weekdays_in(self.values(spec, text))


def _weekdays_in(weekdays: Iterable[int]) -> _DaysOfMonth:
    wanted = frozenset(weekdays)

    def days(year: int, month: int) -> list[int]:
        first = _aws_weekday(date(year, month, 1))
        return [
            day for day in range(1, _month_length(year, month) + 1) if (first + day - 2) % 7 + 1 in wanted
        ]

    return days


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> list[int]:
    first = 1 + (weekday - _aws_weekday(date(year, month, 1))) % 7
    day = first + 7 * (nth - 1)
    return [day] if day <= _month_length(year, month) else []


def _last_weekday(year: int, month: int, weekday: int) -> list[int]:
    last = _month_length(year, month)
    return [last - (_aws_weekday(date(year, month, last)) - weekday) % 7]


def _last_weekday_of_month(year: int, month: int) -> list[int]:
    last = _month_length(year, month)
    weekday = _aws_weekday(date(year, month, last))
    return [last - {1: 2, 7: 1}.get(weekday, 0)]


def _nearest_weekday(year: int, month: int, target: int) -> list[int]:
    """`nW`: the weekday (Mon-Fri) nearest the n-th, never leaving the month; none if there is no n-th."""
    last = _month_length(year, month)
    if target > last:
        return []
    weekday = _aws_weekday(date(year, month, target))
    if weekday == _SATURDAY:
        return [target - 1 if target > 1 else target + 2]
    if weekday == 1:  # Sunday
        return [target + 1 if target < last else target - 2]
    return [target]


@dataclass(frozen=True)
class _Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: _DaysOfMonth
    months: tuple[int, ...]
    years: tuple[int, ...]

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        start = moment.astimezone(zone)
        start_day = start.date()
        for year in self.years[bisect_left(self.years, start_day.year) :]:
            for month in self.months:
                if (year, month) < (start_day.year, start_day.month):
                    continue
                for day in self.days(year, month):
                    when = date(year, month, day)
                    if when < start_day:
                        continue
                    fired = self._first_time_on(when, moment, zone)
                    if fired is not None:
                        return fired
        return None

    def _first_time_on(self, day: date, moment: datetime, zone: ZoneInfo) -> datetime | None:
        for hour in self.hours:
            # Local times map to increasing instants (skipped ones aside), so an hour whose last
            # candidate is not after `moment` has none that is.
            latest = datetime(day.year, day.month, day.day, hour, self.minutes[-1], tzinfo=zone)
            if latest.astimezone(UTC) <= moment:
                continue
            for minute in self.minutes:
                local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                instant = local.astimezone(UTC)
                if instant <= moment:
                    continue
                if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
                    continue  # the clocks skip this local time (spring forward): it never happens
                return instant
        return None


def _parse_cron(expression: str, body: str) -> _Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression!r}: a cron expression has six fields, "
            f"'cron(Minutes Hours Day-of-month Month Day-of-week Year)', not {len(fields)}"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    parser = _CronParser(expression)
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError(
            f"{expression!r}: exactly one of day-of-month ({day_of_month!r}) and day-of-week "
            f"({day_of_week!r}) must be '?'"
        )
    days = parser.day_of_week(day_of_week) if day_of_month == "?" else parser.day_of_month(day_of_month)
    return _Cron(
        minutes=tuple(sorted(parser.values(_MINUTES, minutes))),
        hours=tuple(sorted(parser.values(_HOURS, hours))),
        days=days,
        months=tuple(sorted(parser.values(_MONTH, month))),
        years=tuple(sorted(parser.values(_YEAR, year))),
    )


# ---------------------------------------------------------------------------------------------------
# at(...)

_AT_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _parse_at(expression: str, body: str) -> datetime:
    if not _AT_FORMAT.fullmatch(body):
        raise ScheduleExpressionError(
            f"{expression!r}: a one-time expression is 'at(yyyy-mm-ddThh:mm:ss)', "
            "e.g. 'at(2026-12-01T10:00:00)'"
        )
    try:
        return datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
    except ValueError as exc:
        raise ScheduleExpressionError(f"{expression!r}: {body!r} is not a valid date and time") from exc


# ---------------------------------------------------------------------------------------------------
# Schedule

_EXPRESSION = re.compile(r"(rate|cron|at)\((.*)\)", re.DOTALL)


def _load_zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ScheduleExpressionError(
            f"unknown time zone {timezone!r} (expected an IANA name such as 'Europe/Berlin')"
        ) from exc


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression; `next_after` tells when it fires next.

    ``timezone`` is the IANA zone cron and at expressions are read in (rate ignores it).
    ``anchor`` is the first fire time of a rate expression (the moment the local clock starts); it
    fires again every period after. Cron and at expressions ignore it. Constructing a Schedule
    validates the expression and raises ScheduleExpressionError if AWS would reject it.
    """

    expression: str
    timezone: str = "UTC"
    anchor: datetime | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _plan: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.expression, str):
            raise ScheduleExpressionError(f"a schedule expression must be a string, not {self.expression!r}")
        matched = _EXPRESSION.fullmatch(self.expression.strip())
        if matched is None:
            raise ScheduleExpressionError(
                f"{self.expression!r}: expected 'rate(value unit)', "
                "'cron(Minutes Hours Day-of-month Month Day-of-week Year)' or 'at(yyyy-mm-ddThh:mm:ss)'"
            )
        kind, body = matched.groups()
        object.__setattr__(self, "_zone", _load_zone(self.timezone))
        if kind == "rate":
            plan: Any = _parse_rate(self.expression, body)
        elif kind == "cron":
            plan = _parse_cron(self.expression, body)
        else:
            plan = _parse_at(self.expression, body).replace(tzinfo=self._zone).astimezone(UTC)
        object.__setattr__(self, "_plan", plan)
        if self.anchor is not None:
            _require_aware("anchor", self.anchor)
            object.__setattr__(self, "anchor", self.anchor.astimezone(UTC))

    @property
    def kind(self) -> ScheduleKind:
        if isinstance(self._plan, timedelta):
            return "rate"
        if isinstance(self._plan, _Cron):
            return "cron"
        return "at"

    @property
    def period(self) -> timedelta | None:
        """The interval of a rate expression; None for cron and at."""
        return self._plan if isinstance(self._plan, timedelta) else None

    def anchored_at(self, anchor: datetime) -> Schedule:
        """This schedule with `anchor` as the start of its rate (a copy; cron and at are unaffected)."""
        return replace(self, anchor=anchor)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment` (timezone-aware), in UTC; None if it never fires again.

        Raises ValueError for a rate schedule that has no anchor.
        """
        _require_aware("moment", moment)
        moment = moment.astimezone(UTC)
        plan = self._plan
        if isinstance(plan, timedelta):
            if self.anchor is None:
                raise ValueError(
                    f"{self.expression!r} needs an anchor (the moment the clock starts): "
                    "parse_schedule(expression, anchor=start) or schedule.anchored_at(start)"
                )
            if moment < self.anchor:
                return self.anchor
            return self.anchor + ((moment - self.anchor) // plan + 1) * plan
        if isinstance(plan, _Cron):
            return plan.next_after(moment, self._zone)
        return plan if plan > moment else None


def parse_schedule(expression: str, timezone: str = "UTC", anchor: datetime | None = None) -> Schedule:
    """Parse a `Schedule`/`ScheduleExpression` value of a SAM Schedule or ScheduleV2 event.

    `timezone` is the event's ScheduleExpressionTimezone (UTC when absent). `anchor` starts a rate
    expression: it fires at ``anchor + k * period`` for ``k = 0, 1, 2, ...`` (so a clock started at
    `anchor` that asks ``next_after(anchor)`` gets ``anchor + period``). Pass the clock's start time for
    every schedule; cron and at expressions ignore it. Raises ScheduleExpressionError.
    """
    return Schedule(expression, timezone, anchor)


def scheduled_event(rule_arn: str, region: str, account_id: str, fired_at: datetime, event_id: str) -> dict:
    """The EventBridge "Scheduled Event" a function gets from a SAM Schedule event with no Input."""
    _require_aware("fired_at", fired_at)
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": fired_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
