from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlencode

from service.auth.types import Principal
from service.db import UnitOfWork, utcnow
from service.errors import FieldError, ValidationFailed
from service.findings.models import FindingStatus
from service.responses.service import ResponseService
from service.stats import schemas
from service.stats.repository import StatsFilter, StatsRepository
from service.storms.repository import StormRepository

DEFAULT_WINDOW = dt.timedelta(days=30)
MAX_WINDOW = dt.timedelta(days=400)


def _aware(value: dt.datetime) -> dt.datetime:
    # A time without a zone is taken as UTC (the dashboards' days are UTC days too).
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _other_client(principal: Principal, client_id: uuid.UUID | None) -> bool:
    return principal.client_id is not None and client_id not in {None, principal.client_id}


def _links(
    client_id: uuid.UUID | None,
    connection_id: uuid.UUID | None,
    since: dt.datetime,
    until: dt.datetime,
) -> schemas.StatsLinks:
    scope = "&".join(
        f"{name}={value}"
        for name, value in (("client_id", client_id), ("connection_id", connection_id))
        if value is not None
    )
    window = urlencode({"since": since.isoformat(), "until": until.isoformat()})
    return schemas.StatsLinks(
        response_times=f"/v1/response-times?{window}" + (f"&{scope}" if scope else ""),
        unanswered="/v1/unanswered" + (f"?{scope}" if scope else ""),
        storms="/v1/storms" + (f"?{scope}" if scope else ""),
    )


class StatsService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.stats = StatsRepository(uow.session)

    async def get(
        self,
        principal: Principal,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
    ) -> schemas.Stats:
        until = _aware(until) if until else utcnow()
        since = _aware(since) if since else until - DEFAULT_WINDOW
        if since >= until:
            raise ValidationFailed(
                "`since` must be before `until`.",
                errors=[FieldError(field="query.since", message="must be before until")],
            )
        if until - since > MAX_WINDOW:
            raise ValidationFailed(
                f"The window may span at most {MAX_WINDOW.days} days.",
                errors=[FieldError(field="query.since", message="window too long")],
            )
        # A key restricted to one client sees that client's figures only, whatever it asks for.
        f = StatsFilter(
            since=since,
            until=until,
            client_id=client_id,
            connection_id=connection_id,
            restricted_to_client=principal.client_id,
        )
        tenant_id = principal.tenant_id
        statuses = await self.stats.by_status(tenant_id, f)
        days = await self.stats.by_type_and_day(tenant_id, f)
        ever_hidden, unhidden, samples, p50, p95 = await self.stats.hide_figures(tenant_id, f)
        totals: dict[str, int] = {}
        for _, entity_type, count in days:
            totals[entity_type] = totals.get(entity_type, 0) + count
        return schemas.Stats(
            since=since,
            until=until,
            client_id=client_id,
            connection_id=connection_id,
            findings=sum(statuses.values()),
            by_status=schemas.StatusCounts(
                **{status.value: statuses.get(status, 0) for status in FindingStatus}
            ),
            by_type=[
                schemas.TypeCount(type=t, count=n)
                for t, n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
            ],
            by_day=[schemas.DayTypeCount(day=d, type=t, count=n) for d, t, n in days],
            unhide_rate=round(unhidden / ever_hidden, 4) if ever_hidden else None,
            time_to_hide=schemas.TimeToHide(
                samples=samples,
                p50_ms=None if p50 is None else round(p50, 1),
                p95_ms=None if p95 is None else round(p95, 1),
            ),
            response_times=(
                await ResponseService(self.uow).response_times(
                    principal,
                    client_id=client_id,
                    connection_id=connection_id,
                    since=since,
                    until=until,
                )
            ).total,
            storms=await self._storms(principal, client_id, connection_id, since, until),
            links=_links(client_id, connection_id, since, until),
        )

    async def _storms(
        self,
        principal: Principal,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        since: dt.datetime,
        until: dt.datetime,
    ) -> schemas.StormCounts:
        if _other_client(principal, client_id):
            return schemas.StormCounts(started=0, active=0)
        counts = await StormRepository(self.uow.session).counts(
            principal.tenant_id,
            client_id=principal.client_id or client_id,
            connection_id=connection_id,
            since=since,
            until=until,
        )
        return schemas.StormCounts(**counts)
