from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from service.responses.schemas import ResponseFigures


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


class StormCounts(msgspec.Struct, kw_only=True):
    """Comment storms on the pages in scope (``GET /v1/storms`` lists them)."""

    started: Annotated[
        int, msgspec.Meta(description="Storms that started in the window.", examples=[1])
    ]
    active: Annotated[int, msgspec.Meta(description="Storms in progress now.", examples=[0])]


class StatsLinks(msgspec.Struct, kw_only=True):
    """Where the figures come from in detail, for the same client or connection."""

    response_times: Annotated[str, msgspec.Meta(description="First-response times.")]
    unanswered: Annotated[str, msgspec.Meta(description="Customer comments still waiting.")]
    storms: Annotated[str, msgspec.Meta(description="Comment storms.")]


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
    # The page team's side: first responses to customer comments made in the window, against
    # the promised service hours (GET /v1/response-times has them per connection).
    response_times: ResponseFigures
    storms: StormCounts
    links: StatsLinks
