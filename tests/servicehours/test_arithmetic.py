"""Service-hour arithmetic: across midnight, weekends, holidays, exceptions and DST changes in
Europe/Copenhagen and Europe/Helsinki. Pure: no database, no clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.servicehours.arithmetic import (
    ALWAYS_OPEN,
    Interval,
    Schedule,
    deadline,
    parse_clock,
    service_seconds,
)

CPH = ZoneInfo("Europe/Copenhagen")
HEL = ZoneInfo("Europe/Helsinki")
MIN = 60.0


def hours(opens: str, closes: str) -> tuple[Interval, ...]:
    return ((parse_clock(opens), parse_clock(closes)),)


def daily(zone: ZoneInfo, opens: str = "07:00", closes: str = "22:00", **extra: object) -> Schedule:
    return Schedule(zone=zone, weekly=tuple(hours(opens, closes) for _ in range(7)), **extra)  # type: ignore[arg-type]


def weekdays(zone: ZoneInfo, opens: str, closes: str, **extra: object) -> Schedule:
    week = tuple(hours(opens, closes) if d < 5 else () for d in range(7))
    return Schedule(zone=zone, weekly=week, **extra)  # type: ignore[arg-type]


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(dt.UTC)


def test_the_issue_example_across_midnight_in_helsinki() -> None:
    # "We answer every day 7-22": 21:50 answered at 07:10 the next morning took 20 minutes.
    s = daily(HEL)
    assert service_seconds(s, at(HEL, 2026, 6, 10, 21, 50), at(HEL, 2026, 6, 11, 7, 10)) == 20 * MIN


def test_inside_one_day_and_while_closed() -> None:
    s = daily(CPH)
    assert service_seconds(s, at(CPH, 2026, 6, 10, 9, 0), at(CPH, 2026, 6, 10, 9, 45)) == 45 * MIN
    # Written and answered in the night: no service time passed.
    assert service_seconds(s, at(CPH, 2026, 6, 10, 23, 0), at(CPH, 2026, 6, 11, 6, 59)) == 0
    assert service_seconds(s, at(CPH, 2026, 6, 10, 10, 0), at(CPH, 2026, 6, 10, 9, 0)) == 0


def test_a_weekend_does_not_count_on_a_weekday_schedule() -> None:
    s = weekdays(CPH, "08:00", "16:00")
    friday, monday = at(CPH, 2026, 6, 12, 15, 30), at(CPH, 2026, 6, 15, 8, 45)
    assert service_seconds(s, friday, monday) == 75 * MIN
    # Written on Saturday: the clock starts on Monday morning.
    assert service_seconds(s, at(CPH, 2026, 6, 13, 11, 0), monday) == 45 * MIN


def test_holidays_close_and_exceptions_replace_the_day() -> None:
    s = weekdays(
        CPH,
        "08:00",
        "16:00",
        closed=frozenset({dt.date(2026, 12, 25)}),
        special={dt.date(2026, 12, 24): hours("09:00", "12:00")},
    )
    # Thursday 24 December opens 09-12 only; Friday 25 is a holiday; the weekend is closed.
    thursday_morning = at(CPH, 2026, 12, 24, 11, 50)
    monday = at(CPH, 2026, 12, 28, 8, 10)
    assert service_seconds(s, thursday_morning, monday) == 20 * MIN
    assert service_seconds(s, at(CPH, 2026, 12, 24, 13, 0), monday) == 10 * MIN


def test_copenhagen_spring_forward_day_is_23_hours() -> None:
    s = Schedule(zone=CPH, weekly=tuple(hours("00:00", "24:00") for _ in range(7)))
    # 29 March 2026: 02:00 becomes 03:00.
    start, end = at(CPH, 2026, 3, 28, 12, 0), at(CPH, 2026, 3, 29, 12, 0)
    assert end - start == dt.timedelta(hours=23)
    assert service_seconds(s, start, end) == 23 * 3600
    # Open 01-04 that night: the hour 02-03 does not exist, so it was open two hours.
    night = Schedule(zone=CPH, weekly=tuple(hours("01:00", "04:00") for _ in range(7)))
    day = (at(CPH, 2026, 3, 29, 0, 0), at(CPH, 2026, 3, 29, 12, 0))
    assert service_seconds(night, *day) == 2 * 3600


def test_helsinki_fall_back_day_is_25_hours() -> None:
    s = Schedule(zone=HEL, weekly=tuple(hours("00:00", "24:00") for _ in range(7)))
    # 25 October 2026: 04:00 becomes 03:00 again.
    start, end = at(HEL, 2026, 10, 24, 12, 0), at(HEL, 2026, 10, 25, 12, 0)
    assert service_seconds(s, start, end) == 25 * 3600
    # Open 03-05 that night: 03:00-04:00 happens twice and is counted twice.
    night = Schedule(zone=HEL, weekly=tuple(hours("03:00", "05:00") for _ in range(7)))
    assert service_seconds(night, at(HEL, 2026, 10, 25, 0, 0), at(HEL, 2026, 10, 25, 12, 0)) == (
        3 * 3600
    )


def test_opening_hours_follow_local_time_across_dst() -> None:
    # 07-22 local on both sides of the change: 15 hours each day in UTC terms too.
    for zone, day in ((CPH, dt.date(2026, 3, 29)), (HEL, dt.date(2026, 10, 25))):
        s = daily(zone)
        start = at(zone, day.year, day.month, day.day, 0, 0)
        assert service_seconds(s, start, start + dt.timedelta(days=1)) == 15 * 3600
        # A comment on Saturday 21:30, answered Sunday 07:30: 30 + 30 minutes.
        sat = day - dt.timedelta(days=1)
        assert (
            service_seconds(
                s,
                at(zone, sat.year, sat.month, sat.day, 21, 30),
                at(zone, day.year, day.month, day.day, 7, 30),
            )
            == 60 * MIN
        )


def test_deadline_skips_closed_time_and_dst() -> None:
    s = daily(HEL)
    assert deadline(s, at(HEL, 2026, 6, 10, 21, 30), 60) == at(HEL, 2026, 6, 11, 7, 30)
    # The budget used up exactly at closing: a reply at the next opening still keeps it.
    assert deadline(s, at(HEL, 2026, 6, 10, 21, 0), 60) == at(HEL, 2026, 6, 11, 7, 0)
    # Across the autumn change the next morning is still 07:00 local.
    assert deadline(s, at(HEL, 2026, 10, 24, 21, 30), 60) == at(HEL, 2026, 10, 25, 7, 30)
    weekend = weekdays(CPH, "08:00", "16:00", closed=frozenset({dt.date(2026, 3, 30)}))
    # Friday 15:30 + 60 min: 30 on Friday, Monday is a holiday, 30 on Tuesday.
    assert deadline(weekend, at(CPH, 2026, 3, 27, 15, 30), 60) == at(CPH, 2026, 3, 31, 8, 30)


def test_never_open_has_no_deadline_and_always_open_is_wall_time() -> None:
    closed = Schedule(zone=CPH, weekly=tuple(() for _ in range(7)))
    assert deadline(closed, at(CPH, 2026, 1, 1, 12, 0), 60) is None
    start = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)
    assert service_seconds(ALWAYS_OPEN, start, start + dt.timedelta(hours=30)) == 30 * 3600


@pytest.mark.parametrize("value", ["7:00", "24:01", "25:00", "07:60", "0700", "ab:cd", ""])
def test_clock_format(value: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(value)


instants = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=dt.UTC)
)


@settings(max_examples=300, deadline=None)
@given(start=instants, minutes=st.integers(min_value=1, max_value=3000))
def test_a_reply_at_the_deadline_took_exactly_the_promise(start: dt.datetime, minutes: int) -> None:
    for s in (daily(CPH), weekdays(HEL, "08:00", "16:30")):
        end = deadline(s, start, minutes)
        assert end is not None
        assert service_seconds(s, start, end) == pytest.approx(minutes * 60)
        # The deadline lies inside open hours, so a reply a second later broke the promise.
        later = service_seconds(s, start, end + dt.timedelta(seconds=1))
        assert minutes * 60 < later <= minutes * 60 + 1.001
