from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from service.inputs import text

Clock = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        description="Local wall-clock time HH:MM; 24:00 is the end of the day.",
        examples=["07:00", "22:00", "24:00"],
    ),
]


class OpeningHours(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One open interval of a day, [opens, closes) in the service hours' time zone."""

    opens: Clock
    closes: Clock


DayHours = Annotated[
    list[OpeningHours],
    msgspec.Meta(
        max_length=12,
        description="The day's open intervals, not overlapping; empty when closed all day.",
        examples=[[{"opens": "07:00", "closes": "22:00"}]],
    ),
]


class WeeklyHours(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Opening hours per weekday; a day left out is closed."""

    monday: DayHours = msgspec.field(default_factory=list)
    tuesday: DayHours = msgspec.field(default_factory=list)
    wednesday: DayHours = msgspec.field(default_factory=list)
    thursday: DayHours = msgspec.field(default_factory=list)
    friday: DayHours = msgspec.field(default_factory=list)
    saturday: DayHours = msgspec.field(default_factory=list)
    sunday: DayHours = msgspec.field(default_factory=list)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DateException(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A date with hours of its own (Christmas Eve 09-12), replacing its weekday's."""

    date: Annotated[
        dt.date, msgspec.Meta(description="Local calendar date.", examples=["2026-12-24"])
    ]
    hours: DayHours


TimeZoneName = Annotated[
    str,
    text(
        min_length=1,
        max_length=64,
        description="IANA time zone the hours are in (DST follows it).",
        examples=["Europe/Copenhagen", "Europe/Helsinki"],
    ),
]
Holidays = Annotated[
    list[dt.date],
    msgspec.Meta(
        max_length=400,
        description="Dates closed all day (public holidays), in local calendar dates.",
        examples=[["2026-12-25", "2026-12-26"]],
    ),
]
Exceptions = Annotated[
    list[DateException],
    msgspec.Meta(
        max_length=400,
        description="Dates with hours of their own; a date may not also be a holiday.",
        examples=[[{"date": "2026-12-24", "hours": [{"opens": "09:00", "closes": "12:00"}]}]],
    ),
]
PromiseMinutes = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=10_080,
        description="Promised first response, in minutes of service hours (null: none promised,"
        " response times are still measured).",
        examples=[60],
    ),
]
CountHidden = Annotated[
    bool,
    msgspec.Meta(
        description="Whether a comment hidden for personal data still awaits a public reply"
        " (counted in response times and overdue alerts). Default false: it is left out.",
        examples=[False],
    ),
]
Source = Literal["default", "client", "connection"]


class ServiceHoursUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Replaces the service hours as a whole."""

    time_zone: TimeZoneName
    # Opening hours per weekday (the component's schema is shared with the response, so the
    # example sits on the days, not here).
    weekly: WeeklyHours
    holidays: Holidays = msgspec.field(default_factory=list)
    exceptions: Exceptions = msgspec.field(default_factory=list)
    first_response_minutes: PromiseMinutes | None = None
    count_hidden_comments: CountHidden = False


class ServiceHours(msgspec.Struct, kw_only=True):
    """Service hours as stored (or, with ``stored`` false, the default: around the clock in
    UTC, nothing promised)."""

    client_id: Annotated[uuid.UUID, msgspec.Meta(description="The client.")]
    connection_id: Annotated[
        uuid.UUID | None,
        msgspec.Meta(description="The connection this overrides the client's hours for."),
    ]
    time_zone: TimeZoneName
    weekly: WeeklyHours
    holidays: Holidays
    exceptions: Exceptions
    first_response_minutes: PromiseMinutes | None
    count_hidden_comments: CountHidden
    stored: Annotated[
        bool, msgspec.Meta(description="False while nothing is stored (the default applies).")
    ]
    updated_at: Annotated[
        dt.datetime | None, msgspec.Meta(description="When they were last replaced.")
    ]


class EffectiveServiceHours(msgspec.Struct, kw_only=True):
    """The service hours that apply on a connection and where they come from."""

    connection_id: Annotated[uuid.UUID, msgspec.Meta(description="The connection.")]
    source: Annotated[
        Source,
        msgspec.Meta(
            description="connection (its override), client (the client's) or default.",
            examples=["client"],
        ),
    ]
    hours: ServiceHours
