"""Service-hours arithmetic: how much of a span of time fell within a page's service hours.

Pure (no I/O, no clock): a ``Schedule`` is a time zone, opening intervals per weekday, closed
dates (holidays) and dates with hours of their own (exceptions). Intervals are local wall-clock
minutes from midnight, ``[opens, closes)``, ``closes`` at most 24:00; each local interval is turned
into UTC instants with ``zoneinfo`` *per date*, so a day with a DST change simply is 23 or 25
hours long, and an opening time that does not exist that day (02:30 on the spring-forward night)
resolves the way ``zoneinfo`` resolves it (``fold=0``: the offset before the change, so the
interval opens at 03:30 summer time). An hour that happens twice (autumn) is counted twice when
open, because it was.

``service_seconds(schedule, start, end)`` is the response time counted in service hours only:
with hours 07-22, a comment at 21:50 answered at 07:10 the next morning took 20 minutes.
``deadline(schedule, start, minutes)`` is the last instant a reply still keeps a promise of
``minutes`` service minutes: a reply at or before it has ``service_seconds <= minutes * 60``, one
after it has more. When the budget runs out exactly at closing time, the deadline is the next
opening (a reply at 07:00 sharp after a comment at 21:00 with a 60-minute promise kept it).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
# How far ahead a deadline is looked for: a schedule closed for longer has no deadline.
_DEADLINE_HORIZON_DAYS = 400

Interval = tuple[int, int]  # local minutes from midnight, [opens, closes)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A page's service hours. ``weekly[0]`` is Monday. Intervals sorted and non-overlapping
    (the service validates that before building one)."""

    zone: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]
    closed: frozenset[dt.date] = frozenset()
    special: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=dict)

    def intervals_on(self, day: dt.date) -> tuple[Interval, ...]:
        """The local opening intervals of one calendar date."""
        if day in self.special:
            return self.special[day]
        if day in self.closed:
            return ()
        return self.weekly[day.weekday()]


UTC_ZONE = ZoneInfo("UTC")
# No service hours configured: time counts around the clock.
ALWAYS_OPEN = Schedule(zone=UTC_ZONE, weekly=tuple(((0, MINUTES_PER_DAY),) for _ in range(7)))


def _instant(zone: ZoneInfo, day: dt.date, minute: int) -> dt.datetime:
    # 24:00 is the next day's midnight, which may have another UTC offset than this morning.
    if minute >= MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=1), minute - MINUTES_PER_DAY
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(dt.UTC)


def open_spans(
    schedule: Schedule, first: dt.date, last: dt.date
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """The open spans in UTC of the local dates ``first`` to ``last`` (inclusive), in order."""
    day = first
    while day <= last:
        for opens, closes in schedule.intervals_on(day):
            start = _instant(schedule.zone, day, opens)
            end = _instant(schedule.zone, day, closes)
            if end > start:
                yield start, end
        day += dt.timedelta(days=1)


def _local_date(schedule: Schedule, instant: dt.datetime) -> dt.date:
    return instant.astimezone(schedule.zone).date()


def service_seconds(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of ``[start, end)`` that fall within service hours (0 when ``end <= start``)."""
    if end <= start:
        return 0.0
    total = 0.0
    first, last = _local_date(schedule, start), _local_date(schedule, end)
    for opens, closes in open_spans(schedule, first, last):
        overlap = (min(closes, end) - max(opens, start)).total_seconds()
        if overlap > 0:
            total += overlap
    return total


def deadline(schedule: Schedule, start: dt.datetime, minutes: int) -> dt.datetime | None:
    """The last instant a reply keeps a promise of ``minutes`` service minutes from ``start``;
    None when the schedule has no opening within the horizon."""
    remaining = dt.timedelta(minutes=minutes)
    first = _local_date(schedule, start)
    last = first + dt.timedelta(days=_DEADLINE_HORIZON_DAYS)
    for opens, closes in open_spans(schedule, first, last):
        begin = max(opens, start)
        if closes <= begin:
            continue
        available = closes - begin
        # Strictly more: a budget used up exactly at closing lasts until the next opening.
        if available > remaining:
            return begin + remaining
        remaining -= available
    return None


def parse_clock(value: str) -> int:
    """``"07:30"`` as minutes from midnight; ``"24:00"`` is 1440. ValueError otherwise."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError("write times as HH:MM, e.g. 07:00 or 24:00")
    h, m = int(hours), int(minutes)
    if (h == 24 and m == 0) or (h < 24 and m < 60):
        return h * 60 + m
    raise ValueError("times run from 00:00 to 24:00")


def format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def overlaps(intervals: Sequence[Interval]) -> bool:
    ordered = sorted(intervals)
    return any(a[1] > b[0] for a, b in itertools.pairwise(ordered))
