from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chatshop_local.schedules import Schedule, ScheduleExpressionError, parse_schedule, scheduled_event


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fires(expression: str, after: datetime, count: int = 1, timezone: str = "UTC") -> list[datetime | None]:
    schedule = parse_schedule(expression, timezone)
    found: list[datetime | None] = []
    moment: datetime | None = after
    for _ in range(count):
        moment = schedule.next_after(moment) if moment is not None else None
        found.append(moment)
    return found


# --- rate(...) ------------------------------------------------------------------------------------

START = utc(2026, 1, 1, 8, 0)


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(3 days)", timedelta(days=3)),
    ],
)
def test_rate_fires_every_period_from_its_anchor(expression: str, period: timedelta) -> None:
    # Given a rate schedule anchored at the clock's start
    schedule = parse_schedule(expression, anchor=START)

    # When / Then it fires one period after the start, and every period after that
    assert schedule.kind == "rate"
    assert schedule.period == period
    assert schedule.next_after(START) == START + period
    assert schedule.next_after(START + period) == START + 2 * period
    assert schedule.next_after(START + period * 2.5) == START + 3 * period


def test_rate_anchor_is_itself_a_fire_time() -> None:
    schedule = parse_schedule("rate(5 minutes)", anchor=START)

    assert schedule.next_after(START - timedelta(seconds=1)) == START
    assert schedule.next_after(START - timedelta(days=3)) == START


def test_rate_keeps_the_anchor_phase_including_seconds() -> None:
    anchor = utc(2026, 1, 1, 8, 0, 17)
    schedule = parse_schedule("rate(1 minute)", anchor=anchor)

    assert schedule.next_after(utc(2026, 1, 1, 9, 30, 20)) == utc(2026, 1, 1, 9, 31, 17)


def test_rate_anchor_in_another_offset_is_normalised_to_utc() -> None:
    # Given an anchor expressed at +02:00
    anchor = datetime(2026, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))

    # When
    schedule = parse_schedule("rate(1 hour)", anchor=anchor)

    # Then
    assert schedule.anchor == START
    assert schedule.next_after(START).tzinfo is UTC


def test_rate_days_are_24_hours_whatever_the_time_zone() -> None:
    schedule = parse_schedule("rate(1 day)", "America/New_York", anchor=utc(2026, 3, 7, 12))

    assert schedule.next_after(utc(2026, 3, 7, 12)) == utc(2026, 3, 8, 12)
    assert schedule.next_after(utc(2026, 3, 8, 12)) == utc(2026, 3, 9, 12)


def test_rate_without_anchor_refuses_to_guess() -> None:
    schedule = parse_schedule("rate(5 minutes)")

    with pytest.raises(ValueError, match="needs an anchor"):
        schedule.next_after(START)


def test_anchored_at_returns_an_anchored_copy() -> None:
    # Given
    unanchored = parse_schedule("rate(2 hours)")

    # When
    anchored = unanchored.anchored_at(START)

    # Then
    assert unanchored.anchor is None
    assert anchored.next_after(START) == START + timedelta(hours=2)
    assert anchored == Schedule("rate(2 hours)", "UTC", START)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "rate of 1 takes a singular unit: 'rate(1 minute)'"),
        ("rate(1 hours)", "singular unit"),
        ("rate(1 days)", "singular unit"),
        ("rate(5 minute)", "rate above 1 takes a plural unit: 'rate(5 minutes)'"),
        ("rate(2 hour)", "plural unit"),
        ("rate(3 day)", "plural unit"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(-1 minutes)", "positive whole number"),
        ("rate(1.5 hours)", "positive whole number"),
        ("rate(five minutes)", "positive whole number"),
        ("rate(5 seconds)", "rate unit must be one of"),
        ("rate(2 weeks)", "rate unit must be one of"),
        ("rate(5)", "rate(value unit)"),
        ("rate(5 minutes please)", "rate(value unit)"),
        ("rate()", "rate(value unit)"),
    ],
)
def test_invalid_rate_expressions_are_rejected(expression: str, message: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_schedule(expression)


# --- cron(...): basics ----------------------------------------------------------------------------


def test_daily_cron_fires_later_the_same_day() -> None:
    assert fires("cron(0 12 * * ? *)", utc(2026, 5, 4, 11, 59)) == [utc(2026, 5, 4, 12)]


def test_daily_cron_is_strictly_after_the_moment() -> None:
    assert fires("cron(0 12 * * ? *)", utc(2026, 5, 4, 12)) == [utc(2026, 5, 5, 12)]
    assert fires("cron(0 12 * * ? *)", utc(2026, 5, 4, 12, 0, 1)) == [utc(2026, 5, 5, 12)]


def test_cron_result_is_utc_and_on_the_minute() -> None:
    fired = parse_schedule("cron(* * * * ? *)").next_after(utc(2026, 5, 4, 11, 59, 42))

    assert fired == utc(2026, 5, 4, 12)
    assert fired.tzinfo is UTC


def test_cron_accepts_moments_in_any_offset() -> None:
    moment = datetime(2026, 5, 4, 13, 59, tzinfo=timezone(timedelta(hours=2)))  # 11:59 UTC

    assert parse_schedule("cron(0 12 * * ? *)").next_after(moment) == utc(2026, 5, 4, 12)


def test_minute_increments_from_zero() -> None:
    assert fires("cron(0/15 * * * ? *)", utc(2026, 5, 4, 10, 7), 4) == [
        utc(2026, 5, 4, 10, 15),
        utc(2026, 5, 4, 10, 30),
        utc(2026, 5, 4, 10, 45),
        utc(2026, 5, 4, 11, 0),
    ]


def test_increments_start_where_told() -> None:
    # AWS's own example: 1/10 is minute 1, 11, 21, ...
    assert fires("cron(1/10 * * * ? *)", utc(2026, 5, 4, 10, 0), 3) == [
        utc(2026, 5, 4, 10, 1),
        utc(2026, 5, 4, 10, 11),
        utc(2026, 5, 4, 10, 21),
    ]


def test_star_increments() -> None:
    assert fires("cron(*/20 */6 * * ? *)", utc(2026, 5, 4, 0, 41), 3) == [
        utc(2026, 5, 4, 6, 0),
        utc(2026, 5, 4, 6, 20),
        utc(2026, 5, 4, 6, 40),
    ]


def test_range_with_increment() -> None:
    assert fires("cron(0 8-17/3 * * ? *)", utc(2026, 5, 4, 9), 4) == [
        utc(2026, 5, 4, 11),
        utc(2026, 5, 4, 14),
        utc(2026, 5, 4, 17),
        utc(2026, 5, 5, 8),
    ]


def test_lists_and_ranges_of_minutes_and_hours() -> None:
    assert fires("cron(5,35 8-9,22 * * ? *)", utc(2026, 5, 4, 9, 5), 4) == [
        utc(2026, 5, 4, 9, 35),
        utc(2026, 5, 4, 22, 5),
        utc(2026, 5, 4, 22, 35),
        utc(2026, 5, 5, 8, 5),
    ]


def test_day_of_month_list() -> None:
    assert fires("cron(0 6 1,15 * ? *)", utc(2026, 5, 4), 3) == [
        utc(2026, 5, 15, 6),
        utc(2026, 6, 1, 6),
        utc(2026, 6, 15, 6),
    ]


def test_day_of_month_31_skips_short_months() -> None:
    assert fires("cron(0 0 31 * ? *)", utc(2026, 3, 31), 2) == [utc(2026, 5, 31), utc(2026, 7, 31)]


def test_day_of_month_increments() -> None:
    assert fires("cron(0 0 1/10 * ? *)", utc(2026, 1, 25), 4) == [
        utc(2026, 1, 31),
        utc(2026, 2, 1),
        utc(2026, 2, 11),
        utc(2026, 2, 21),
    ]


def test_month_names_and_numbers() -> None:
    assert fires("cron(0 0 1 JAN,jul ? *)", utc(2026, 2, 1), 2) == [utc(2026, 7, 1), utc(2027, 1, 1)]
    assert fires("cron(0 0 1 MAR-MAY ? *)", utc(2026, 3, 1), 3) == [
        utc(2026, 4, 1),
        utc(2026, 5, 1),
        utc(2027, 3, 1),
    ]
    assert fires("cron(0 0 1 1/4 ? *)", utc(2026, 1, 1), 3) == [
        utc(2026, 5, 1),
        utc(2026, 9, 1),
        utc(2027, 1, 1),
    ]


def test_weekdays_skip_the_weekend() -> None:
    # Given Friday 2026-01-09 at 18:00 has just fired
    friday = utc(2026, 1, 9, 18)

    # When / Then the next run is Monday, then Tuesday
    assert fires("cron(0 18 ? * MON-FRI *)", friday, 2) == [utc(2026, 1, 12, 18), utc(2026, 1, 13, 18)]


def test_day_of_week_numbers_are_1_sunday_to_7_saturday() -> None:
    # 2026-01-05 is a Monday
    assert fires("cron(0 0 ? * 1 *)", utc(2026, 1, 5)) == [utc(2026, 1, 11)]  # Sunday
    assert fires("cron(0 0 ? * 7 *)", utc(2026, 1, 5)) == [utc(2026, 1, 10)]  # Saturday
    assert fires("cron(0 0 ? * 2,4,6 *)", utc(2026, 1, 5), 3) == [
        utc(2026, 1, 7),
        utc(2026, 1, 9),
        utc(2026, 1, 12),
    ]
    assert fires("cron(0 0 ? * sun,SAT *)", utc(2026, 1, 5), 2) == [utc(2026, 1, 10), utc(2026, 1, 11)]


def test_question_mark_in_day_of_month_with_star_day_of_week_is_every_day() -> None:
    assert fires("cron(0 0 ? * * *)", utc(2026, 2, 27), 3) == [
        utc(2026, 2, 28),
        utc(2026, 3, 1),
        utc(2026, 3, 2),
    ]


# --- cron(...): L, W, # ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 2, 1), utc(2026, 2, 28)),  # not a leap year
        (utc(2028, 2, 1), utc(2028, 2, 29)),  # leap year
        (utc(2100, 2, 1), utc(2100, 2, 28)),  # centuries are not leap years...
        (utc(2000, 2, 1), utc(2000, 2, 29)),  # ...unless divisible by 400
        (utc(2026, 2, 28), utc(2026, 3, 31)),
        (utc(2026, 4, 1), utc(2026, 4, 30)),
    ],
)
def test_last_day_of_month(after: datetime, expected: datetime) -> None:
    assert fires("cron(0 0 L * ? *)", after) == [expected]


def test_feb_29_waits_for_the_next_leap_year() -> None:
    assert fires("cron(0 0 29 2 ? *)", utc(2026, 3, 1), 2) == [utc(2028, 2, 29), utc(2032, 2, 29)]


def test_nearest_weekday_moves_a_saturday_back_to_friday() -> None:
    # 2026-08-15 is a Saturday
    assert fires("cron(0 9 15W * ? *)", utc(2026, 8, 1)) == [utc(2026, 8, 14, 9)]


def test_nearest_weekday_moves_a_sunday_forward_to_monday() -> None:
    # 2026-02-15 is a Sunday
    assert fires("cron(0 9 15W * ? *)", utc(2026, 2, 1)) == [utc(2026, 2, 16, 9)]


def test_nearest_weekday_on_a_weekday_is_that_day() -> None:
    # 2026-05-15 is a Friday
    assert fires("cron(0 9 15W * ? *)", utc(2026, 5, 1)) == [utc(2026, 5, 15, 9)]


def test_nearest_weekday_never_leaves_the_month() -> None:
    # 2026-08-01 is a Saturday: Friday would be in July, so Monday the 3rd
    assert fires("cron(0 0 1W * ? *)", utc(2026, 7, 31)) == [utc(2026, 8, 3)]
    # 2026-05-31 is a Sunday: Monday would be in June, so Friday the 29th
    assert fires("cron(0 0 31W * ? *)", utc(2026, 5, 1)) == [utc(2026, 5, 29)]


def test_nearest_weekday_to_a_day_the_month_lacks_does_not_fire() -> None:
    assert fires("cron(0 0 30W * ? *)", utc(2026, 2, 1)) == [utc(2026, 3, 30)]


def test_last_weekday_of_month() -> None:
    # 2026-05-31 is a Sunday, 2026-02-28 a Saturday, 2026-06-30 a Tuesday
    assert fires("cron(0 0 LW * ? *)", utc(2026, 5, 1)) == [utc(2026, 5, 29)]
    assert fires("cron(0 0 LW * ? *)", utc(2026, 2, 1)) == [utc(2026, 2, 27)]
    assert fires("cron(0 0 LW * ? *)", utc(2026, 6, 1)) == [utc(2026, 6, 30)]


def test_last_friday_in_2027() -> None:
    assert fires("cron(0 10 ? * 6L 2027)", utc(2026, 6, 1), 3) == [
        utc(2027, 1, 29, 10),
        utc(2027, 2, 26, 10),
        utc(2027, 3, 26, 10),
    ]


def test_last_friday_runs_out_with_its_year() -> None:
    # 2027-12-31 is the last Friday of 2027
    assert fires("cron(0 10 ? * 6L 2027)", utc(2027, 12, 1), 2) == [utc(2027, 12, 31, 10), None]


def test_last_weekday_accepts_a_day_name() -> None:
    assert fires("cron(0 0 ? * MONL *)", utc(2026, 1, 1)) == [utc(2026, 1, 26)]


def test_l_alone_in_day_of_week_is_saturday() -> None:
    assert fires("cron(0 0 ? * L *)", utc(2026, 1, 5), 2) == [utc(2026, 1, 10), utc(2026, 1, 17)]


def test_nth_weekday_of_month() -> None:
    # 3#2 is the second Tuesday: 2026-01-13, 2026-02-10
    assert fires("cron(0 0 ? * 3#2 *)", utc(2026, 1, 1), 2) == [utc(2026, 1, 13), utc(2026, 2, 10)]
    assert fires("cron(0 0 ? * TUE#2 *)", utc(2026, 1, 1)) == [utc(2026, 1, 13)]


def test_fifth_weekday_skips_months_that_have_only_four() -> None:
    # Mondays in 2026: January and February have four, March has five
    assert fires("cron(0 0 ? * 2#5 *)", utc(2026, 1, 1)) == [utc(2026, 3, 30)]


# --- cron(...): years -----------------------------------------------------------------------------


def test_year_list_range_and_increment() -> None:
    assert fires("cron(0 0 1 1 ? 2028-2029)", utc(2026, 6, 1), 3) == [utc(2028, 1, 1), utc(2029, 1, 1), None]
    assert fires("cron(0 0 1 1 ? 2027,2031)", utc(2026, 6, 1), 2) == [utc(2027, 1, 1), utc(2031, 1, 1)]
    assert fires("cron(0 0 1 1 ? 2026/5)", utc(2026, 6, 1), 2) == [utc(2031, 1, 1), utc(2036, 1, 1)]


def test_cron_in_a_past_year_never_fires() -> None:
    assert parse_schedule("cron(0 12 * * ? 2020)").next_after(utc(2026, 1, 1)) is None


def test_cron_after_2199_never_fires() -> None:
    assert parse_schedule("cron(0 0 31 12 ? *)").next_after(utc(2199, 12, 31)) is None


def test_impossible_date_never_fires_and_gives_up_quickly() -> None:
    # Given a date no month has
    schedule = parse_schedule("cron(0 0 30 2 ? *)")

    # When
    fired = schedule.next_after(utc(2026, 1, 1))

    # Then (the suite's timeout ends a search that never gives up)
    assert fired is None


def test_every_minute_steps_one_minute_at_a_time_across_the_dst_change() -> None:
    schedule = parse_schedule("cron(* * * * ? *)", "America/New_York")
    moment = utc(2026, 3, 8, 6, 59)
    for _ in range(500):
        moment = schedule.next_after(moment)
    assert moment == utc(2026, 3, 8, 15, 19)


# --- time zones -----------------------------------------------------------------------------------


def test_cron_in_new_york_follows_daylight_saving_time() -> None:
    # Given 09:00 New York every day; DST starts 2026-03-08 and ends 2026-11-01
    expression = "cron(0 9 * * ? *)"

    # When / Then 09:00 EST is 14:00 UTC and 09:00 EDT is 13:00 UTC
    assert fires(expression, utc(2026, 3, 6, 15), 3, "America/New_York") == [
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
        utc(2026, 3, 9, 13),
    ]
    assert fires(expression, utc(2026, 10, 31, 0), 2, "America/New_York") == [
        utc(2026, 10, 31, 13),
        utc(2026, 11, 1, 14),
    ]


def test_local_time_skipped_by_spring_forward_does_not_fire() -> None:
    # 02:30 does not exist in New York on 2026-03-08
    assert fires("cron(30 2 * * ? *)", utc(2026, 3, 7, 8), 2, "America/New_York") == [
        utc(2026, 3, 9, 6, 30),
        utc(2026, 3, 10, 6, 30),
    ]


def test_local_time_repeated_by_fall_back_fires_once() -> None:
    # 01:30 happens twice in New York on 2026-11-01 (05:30 and 06:30 UTC); it fires the first time only
    assert fires("cron(30 1 * * ? *)", utc(2026, 10, 31, 6), 3, "America/New_York") == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 2, 6, 30),
        utc(2026, 11, 3, 6, 30),
    ]
    assert fires("cron(0/30 * * * ? *)", utc(2026, 11, 1, 5, 0), 3, "America/New_York") == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 1, 7, 0),  # 02:00 EST; the second 01:00 and 01:30 do not fire
        utc(2026, 11, 1, 7, 30),
    ]


def test_day_boundaries_are_local() -> None:
    # Given midnight in Tokyo (UTC+9) on the first of the month
    schedule = parse_schedule("cron(0 0 1 * ? *)", "Asia/Tokyo")

    # When / Then it fires at 15:00 UTC on the last day of the previous month
    assert schedule.next_after(utc(2026, 1, 15)) == utc(2026, 1, 31, 15)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ScheduleExpressionError, match="unknown time zone 'Mars/Olympus_Mons'"):
        parse_schedule("cron(0 9 * * ? *)", "Mars/Olympus_Mons")


# --- at(...) --------------------------------------------------------------------------------------


def test_at_fires_once() -> None:
    # Given
    schedule = parse_schedule("at(2026-12-01T10:00:00)")

    # When / Then
    assert schedule.kind == "at"
    assert schedule.next_after(utc(2026, 1, 1)) == utc(2026, 12, 1, 10)
    assert schedule.next_after(utc(2026, 12, 1, 9, 59, 59)) == utc(2026, 12, 1, 10)
    assert schedule.next_after(utc(2026, 12, 1, 10)) is None


def test_at_is_read_in_the_time_zone() -> None:
    assert parse_schedule("at(2026-12-01T10:00:00)", "Europe/Berlin").next_after(utc(2026, 1, 1)) == utc(
        2026, 12, 1, 9
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("at(2026-12-01 10:00:00)", "at\\(yyyy-mm-ddThh:mm:ss\\)"),
        ("at(2026-12-01T10:00)", "at\\(yyyy-mm-ddThh:mm:ss\\)"),
        ("at(2026-12-01T10:00:00Z)", "at\\(yyyy-mm-ddThh:mm:ss\\)"),
        ("at(2026-13-01T10:00:00)", "not a valid date and time"),
        ("at(2026-02-30T10:00:00)", "not a valid date and time"),
        ("at(2026-02-01T24:00:00)", "not a valid date and time"),
    ],
)
def test_invalid_at_expressions_are_rejected(expression: str, message: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=message):
        parse_schedule(expression)


# --- invalid expressions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "expected 'rate\\(value unit\\)'"),
        ("every 5 minutes", "expected 'rate\\(value unit\\)'"),
        ("0 12 * * ? *", "expected 'rate\\(value unit\\)'"),
        ("cron(0 12 * * ?)", "six fields.*not 5"),
        ("cron(0 0 12 * * ? *)", "six fields.*not 7"),
        (
            "cron(0 12 * * * *)",
            "exactly one of day-of-month \\('\\*'\\) and day-of-week \\('\\*'\\) must be '\\?'",
        ),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 12 1 * MON *)", "exactly one of day-of-month"),
        ("cron(60 12 * * ? *)", "minutes field '60': 60 is out of range \\(expected 0-59\\)"),
        ("cron(0 24 * * ? *)", "hours field '24': 24 is out of range \\(expected 0-23\\)"),
        ("cron(0 0 0 * ? *)", "day-of-month field '0': 0 is out of range \\(expected 1-31\\)"),
        ("cron(0 0 32 * ? *)", "day-of-month field '32'"),
        ("cron(0 0 1 13 ? *)", "month field '13': 13 is out of range \\(expected 1-12 or JAN-DEC\\)"),
        ("cron(0 0 1 FOO ? *)", "month field 'FOO': 'FOO' is not a value"),
        ("cron(0 0 ? * 0 *)", "day-of-week field '0': 0 is out of range \\(expected 1-7 or SUN-SAT\\)"),
        ("cron(0 0 ? * 8 *)", "day-of-week field '8'"),
        ("cron(0 0 ? * MONDAY *)", "'MONDAY' is not a value"),
        ("cron(0 0 1 1 ? 1969)", "year field '1969': 1969 is out of range \\(expected 1970-2199\\)"),
        ("cron(0 0 1 1 ? 2200)", "year field '2200'"),
        ("cron(0 0 1 JAN ? MON)", "year field 'MON': 'MON' is not a value"),
        ("cron(0 22-2 * * ? *)", "range 22-2 runs backwards; .* 22-23,0-2"),
        ("cron(0/0 * * * ? *)", "increment '0' must be a positive whole number"),
        ("cron(0/x * * * ? *)", "increment 'x'"),
        ("cron(0/90 * * * ? *)", "increment 90 is larger than the field"),
        ("cron(0/5/5 * * * ? *)", "increment '5/5'"),
        ("cron(1,,2 * * * ? *)", "empty item in list"),
        ("cron(? * * * ? *)", "minutes field '\\?': '\\?' is only allowed alone"),
        ("cron(0 0 1,? * ? *)", "exactly one of|'\\?' is only allowed alone"),
        ("cron(0 0 ? * */2 *)", "'/' increments are not allowed"),
        ("cron(0 0 L,15 * ? *)", "'L', 'LW' and 'nW' must stand alone"),
        ("cron(0 0 1-5W * ? *)", "must stand alone"),
        ("cron(0 0 W * ? *)", "must stand alone"),
        ("cron(0 0 32W * ? *)", "day-of-month field '32W': 32 is out of range"),
        ("cron(0 0 L * 2 *)", "exactly one of"),
        ("cron(0 0 ? * 3#6 *)", "occurrence '6' after '#' must be 1-5"),
        ("cron(0 0 ? * 3#0 *)", "must be 1-5"),
        ("cron(0 0 ? * 8#1 *)", "'8#1': 8 is out of range"),
        ("cron(0 0 ? * 3#1,6#3 *)", "'#' must stand alone"),
        ("cron(0 0 ? * 2-6L *)", "'dayL' must stand alone"),
        ("cron(0 0 ? * 9L *)", "'9L': 9 is out of range"),
        ("cron(0 0 ? * L2 *)", "'L' must stand alone or follow one day"),
        ("cron(0 L * * ? *)", "hours field 'L': 'L' is not a value"),
    ],
)
def test_invalid_cron_expressions_are_rejected(expression: str, message: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=message):
        parse_schedule(expression)


def test_errors_quote_the_expression() -> None:
    with pytest.raises(ScheduleExpressionError) as raised:
        parse_schedule("cron(0 25 * * ? *)")

    assert str(raised.value).startswith("'cron(0 25 * * ? *)': hours field '25'")


def test_schedule_validates_when_constructed_directly() -> None:
    with pytest.raises(ScheduleExpressionError):
        Schedule("rate(5 minute)")
    assert Schedule("cron(0 12 * * ? *)").kind == "cron"


def test_naive_datetimes_are_refused() -> None:
    schedule = parse_schedule("cron(0 12 * * ? *)")

    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.next_after(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("rate(5 minutes)", anchor=datetime(2026, 1, 1))


def test_schedules_are_values() -> None:
    assert parse_schedule("cron(0 12 * * ? *)") == parse_schedule("cron(0 12 * * ? *)")
    assert parse_schedule("cron(0 12 * * ? *)") != parse_schedule("cron(0 12 * * ? *)", "Europe/Paris")
    assert (
        len({parse_schedule("rate(1 day)", anchor=START), parse_schedule("rate(1 day)", anchor=START)}) == 1
    )
    assert "cron(0 12 * * ? *)" in repr(parse_schedule("cron(0 12 * * ? *)"))


# --- scheduled_event ------------------------------------------------------------------------------


def test_scheduled_event_has_the_shape_eventbridge_sends() -> None:
    # Given a rule that fired a few microseconds past 16:53:06 UTC, seen from +02:00
    fired_at = datetime(2026, 10, 8, 18, 53, 6, 123456, tzinfo=timezone(timedelta(hours=2)))
    rule_arn = "arn:aws:events:eu-west-1:123456789012:rule/chatshop-Nightly-ABC123"

    # When
    event = scheduled_event(
        rule_arn, "eu-west-1", "123456789012", fired_at, "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"
    )

    # Then
    assert event == {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-10-08T16:53:06Z",
        "region": "eu-west-1",
        "resources": [rule_arn],
        "detail": {},
    }
    assert list(event) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ]


def test_scheduled_event_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        scheduled_event("arn", "eu-west-1", "123456789012", datetime(2026, 1, 1), "id")
