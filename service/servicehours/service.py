"""Service hours: a client's, a connection's override, and the terms that apply on a connection.

An override replaces the client's hours as a whole (a page with its own team keeps its own
promise). Without any, time counts around the clock and nothing is promised: response times are
still measured, nothing is ever overdue.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.audit.service import record
from service.auth.types import Principal, TenantId
from service.connections.models import Connection
from service.connections.service import ConnectionService
from service.db import UnitOfWork
from service.errors import FieldError, NotFound, ValidationFailed
from service.servicehours import schemas
from service.servicehours.arithmetic import (
    ALWAYS_OPEN,
    Interval,
    Schedule,
    format_clock,
    overlaps,
    parse_clock,
)
from service.servicehours.models import ServiceHoursRow
from service.servicehours.repository import ServiceHoursRepository
from service.settings import Settings
from service.tenancy.service import ClientService

DEFAULT_TIME_ZONE = "UTC"


@dataclass(frozen=True, slots=True)
class Terms:
    """What a connection's team promised: the schedule response times are counted in, the
    promised first response (service minutes, or None) and whether hidden comments count."""

    schedule: Schedule
    first_response_minutes: int | None
    count_hidden_comments: bool


DEFAULT_TERMS = Terms(ALWAYS_OPEN, None, False)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def _intervals(pairs: Sequence[Sequence[str]]) -> tuple[Interval, ...]:
    return tuple(sorted((parse_clock(a), parse_clock(b)) for a, b in pairs))


def terms_of(row: ServiceHoursRow | None) -> Terms:
    """The terms a stored row stands for (validated when stored)."""
    if row is None:
        return DEFAULT_TERMS
    zone = _zone(row.time_zone)
    if zone is None:  # a zone dropped from tzdata since it was stored: count in UTC
        zone = ZoneInfo("UTC")
    schedule = Schedule(
        zone=zone,
        weekly=tuple(_intervals(row.weekly.get(day, [])) for day in schemas.WEEKDAYS),
        closed=frozenset(dt.date.fromisoformat(d) for d in row.holidays),
        special={dt.date.fromisoformat(e["date"]): _intervals(e["hours"]) for e in row.exceptions},
    )
    return Terms(schedule, row.first_response_minutes, row.count_hidden_comments)


async def terms_for(
    uow: UnitOfWork, tenant_id: TenantId, connections: Sequence[Connection]
) -> dict[uuid.UUID, Terms]:
    """The terms on each connection (its override, else its client's hours, else the default),
    in one query."""
    rows = await ServiceHoursRepository(uow.session).shaping(
        tenant_id, {c.client_id for c in connections}, {c.id for c in connections}
    )
    overrides = {r.connection_id: r for r in rows if r.connection_id is not None}
    clients = {r.client_id: r for r in rows if r.connection_id is None}
    return {c.id: terms_of(overrides.get(c.id) or clients.get(c.client_id)) for c in connections}


# --- validation and the API's operations -------------------------------------------------------


def _day_errors(path: str, hours: Sequence[schemas.OpeningHours]) -> list[FieldError]:
    errors: list[FieldError] = []
    intervals: list[Interval] = []
    for i, interval in enumerate(hours):
        opens, closes = parse_clock(interval.opens), parse_clock(interval.closes)
        if closes <= opens:
            errors.append(
                FieldError(
                    field=f"{path}[{i}]",
                    message=f"closes ({interval.closes}) must be after opens ({interval.opens});"
                    " split a night shift over two days",
                )
            )
        intervals.append((opens, closes))
    if not errors and overlaps(intervals):
        errors.append(FieldError(field=path, message="intervals overlap"))
    return errors


def validate_hours(data: schemas.ServiceHoursUpdate) -> None:
    """What the schema cannot say: a known IANA zone, intervals that close after they open and
    do not overlap, each date listed once, some opening hours when a response is promised."""
    errors: list[FieldError] = []
    if _zone(data.time_zone) is None:
        errors.append(
            FieldError(
                field="$.time_zone",
                message=f"unknown time zone {data.time_zone!r}; use an IANA name such as"
                " Europe/Copenhagen",
            )
        )
    for day in schemas.WEEKDAYS:
        errors.extend(_day_errors(f"$.weekly.{day}", getattr(data.weekly, day)))
    seen: set[dt.date] = set()
    for i, holiday in enumerate(data.holidays):
        if holiday in seen:
            errors.append(FieldError(field=f"$.holidays[{i}]", message="listed twice"))
        seen.add(holiday)
    exception_dates: set[dt.date] = set()
    for i, exception in enumerate(data.exceptions):
        if exception.date in exception_dates:
            errors.append(FieldError(field=f"$.exceptions[{i}].date", message="listed twice"))
        elif exception.date in seen:
            errors.append(
                FieldError(
                    field=f"$.exceptions[{i}].date",
                    message="also a holiday: a date is either closed or has its own hours",
                )
            )
        exception_dates.add(exception.date)
        errors.extend(_day_errors(f"$.exceptions[{i}].hours", exception.hours))
    if data.first_response_minutes is not None and not any(
        getattr(data.weekly, day) for day in schemas.WEEKDAYS
    ):
        errors.append(
            FieldError(
                field="$.weekly",
                message="a first response is promised but no weekday has opening hours",
            )
        )
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _pairs(hours: Sequence[schemas.OpeningHours]) -> list[list[str]]:
    ordered = sorted(hours, key=lambda h: parse_clock(h.opens))
    return [[h.opens, h.closes] for h in ordered]


def _stored_values(data: schemas.ServiceHoursUpdate) -> dict[str, Any]:
    return {
        "time_zone": data.time_zone,
        "weekly": {day: _pairs(getattr(data.weekly, day)) for day in schemas.WEEKDAYS},
        "holidays": sorted(d.isoformat() for d in data.holidays),
        "exceptions": [
            {"date": e.date.isoformat(), "hours": _pairs(e.hours)}
            for e in sorted(data.exceptions, key=lambda e: e.date)
        ],
        "first_response_minutes": data.first_response_minutes,
        "count_hidden_comments": data.count_hidden_comments,
    }


def _hours(pairs: Sequence[Sequence[str]]) -> list[schemas.OpeningHours]:
    return [schemas.OpeningHours(opens=a, closes=b) for a, b in pairs]


def to_schema(
    client_id: uuid.UUID, connection_id: uuid.UUID | None, row: ServiceHoursRow | None
) -> schemas.ServiceHours:
    if row is None:
        always = [schemas.OpeningHours(opens=format_clock(0), closes="24:00")]
        return schemas.ServiceHours(
            client_id=client_id,
            connection_id=connection_id,
            time_zone=DEFAULT_TIME_ZONE,
            weekly=schemas.WeeklyHours(**{day: list(always) for day in schemas.WEEKDAYS}),
            holidays=[],
            exceptions=[],
            first_response_minutes=None,
            count_hidden_comments=False,
            stored=False,
            updated_at=None,
        )
    return schemas.ServiceHours(
        client_id=client_id,
        connection_id=connection_id,
        time_zone=row.time_zone,
        weekly=schemas.WeeklyHours(
            **{day: _hours(row.weekly.get(day, [])) for day in schemas.WEEKDAYS}
        ),
        holidays=[dt.date.fromisoformat(d) for d in row.holidays],
        exceptions=[
            schemas.DateException(date=dt.date.fromisoformat(e["date"]), hours=_hours(e["hours"]))
            for e in row.exceptions
        ],
        first_response_minutes=row.first_response_minutes,
        count_hidden_comments=row.count_hidden_comments,
        stored=True,
        updated_at=row.updated_at,
    )


class ServiceHoursService:
    def __init__(self, uow: UnitOfWork, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings
        self.hours = ServiceHoursRepository(uow.session)

    async def _connection(self, principal: Principal, connection_id: uuid.UUID) -> Connection:
        return await ConnectionService(self.uow, self.settings).load(principal, connection_id)

    async def get_client_hours(
        self, principal: Principal, client_id: uuid.UUID
    ) -> schemas.ServiceHours:
        client = await ClientService(self.uow).load(principal, client_id)
        row = await self.hours.for_client(principal.tenant_id, client.id)
        return to_schema(client.id, None, row)

    async def put_client_hours(
        self, principal: Principal, client_id: uuid.UUID, data: schemas.ServiceHoursUpdate
    ) -> schemas.ServiceHours:
        client = await ClientService(self.uow).load(principal, client_id)
        validate_hours(data)
        row = await self.hours.for_client(principal.tenant_id, client.id)
        if row is None:
            row = ServiceHoursRow(tenant_id=principal.tenant_id, client_id=client.id)
            self.hours.add(row)
        await self._save(principal, row, data, "service_hours.updated", "client", client.id)
        return to_schema(client.id, None, row)

    async def get_override(
        self, principal: Principal, connection_id: uuid.UUID
    ) -> schemas.ServiceHours:
        connection = await self._connection(principal, connection_id)
        row = await self.hours.for_connection(principal.tenant_id, connection.id)
        if row is None:
            raise NotFound(
                f"Connection {connection.id} has no service hours of its own; it follows its"
                " client's (see /effective)."
            )
        return to_schema(connection.client_id, connection.id, row)

    async def put_override(
        self, principal: Principal, connection_id: uuid.UUID, data: schemas.ServiceHoursUpdate
    ) -> schemas.ServiceHours:
        connection = await self._connection(principal, connection_id)
        validate_hours(data)
        row = await self.hours.for_connection(principal.tenant_id, connection.id)
        if row is None:
            row = ServiceHoursRow(
                tenant_id=principal.tenant_id,
                client_id=connection.client_id,
                connection_id=connection.id,
            )
            self.hours.add(row)
        await self._save(
            principal, row, data, "service_hours.override_updated", "connection", connection.id
        )
        return to_schema(connection.client_id, connection.id, row)

    async def delete_override(self, principal: Principal, connection_id: uuid.UUID) -> None:
        connection = await self._connection(principal, connection_id)
        row = await self.hours.for_connection(principal.tenant_id, connection.id)
        if row is None:
            return  # already inheriting: deleting is idempotent
        await self.hours.delete(row)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="service_hours.override_deleted",
            subject_type="connection",
            subject_id=connection.id,
        )

    async def effective(
        self, principal: Principal, connection_id: uuid.UUID
    ) -> schemas.EffectiveServiceHours:
        connection = await self._connection(principal, connection_id)
        override = await self.hours.for_connection(principal.tenant_id, connection.id)
        if override is not None:
            source: schemas.Source = "connection"
            row: ServiceHoursRow | None = override
        else:
            row = await self.hours.for_client(principal.tenant_id, connection.client_id)
            source = "client" if row is not None else "default"
        return schemas.EffectiveServiceHours(
            connection_id=connection.id,
            source=source,
            hours=to_schema(
                connection.client_id, connection.id if source == "connection" else None, row
            ),
        )

    async def _save(
        self,
        principal: Principal,
        row: ServiceHoursRow,
        data: schemas.ServiceHoursUpdate,
        action: str,
        subject_type: str,
        subject_id: uuid.UUID,
    ) -> None:
        for name, value in _stored_values(data).items():
            setattr(row, name, value)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            data={
                "time_zone": data.time_zone,
                "first_response_minutes": data.first_response_minutes,
                "holidays": len(data.holidays),
                "exceptions": len(data.exceptions),
            },
        )
