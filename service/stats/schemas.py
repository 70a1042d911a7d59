from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class StatusCounts(msgspec.Struct, kw_only=True):
    """Findings by what happened to the comment."""

    hidden: int = 0
    monitored: int = 0
    reported: int = 0
    pending_hide: int = 0
    hide_failed: int = 0
    unhidden: int = 0
    confirmed: int = 0


class TypeCount(msgspec.Struct, kw_only=True):
    type: str
    count: int


class DayTypeCount(msgspec.Struct, kw_only=True):
    # UTC calendar day the comment was received.
    day: dt.date
    type: str
    count: int


class TimeToHide(msgspec.Struct, kw_only=True):
    """From the comment reaching Wallguard to the platform confirming the hide."""

    samples: int
    p50_ms: float | None
    p95_ms: float | None


class Stats(msgspec.Struct, kw_only=True):
    since: dt.datetime
    until: dt.datetime
    client_id: uuid.UUID | None
    connection_id: uuid.UUID | None
    # Comments with personal data (a comment with two types counts once here).
    findings: int
    by_status: StatusCounts
    # A comment with two types counts once for each.
    by_type: list[TypeCount]
    by_day: list[DayTypeCount]
    # Unhidden after review / ever hidden; null when nothing was hidden.
    unhide_rate: float | None
    time_to_hide: TimeToHide
