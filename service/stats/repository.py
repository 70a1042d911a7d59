from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, cast, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.findings.models import Finding, FindingStatus


class StatsFilter:
    def __init__(
        self,
        *,
        since: dt.datetime,
        until: dt.datetime,
        client_id: uuid.UUID | None = None,
        connection_id: uuid.UUID | None = None,
        restricted_to_client: uuid.UUID | None = None,
    ) -> None:
        self.since = since
        self.until = until
        self.client_id = client_id
        self.connection_id = connection_id
        self.restricted_to_client = restricted_to_client

    def where(self, tenant_id: TenantId) -> list[Any]:
        clauses: list[Any] = [
            Finding.tenant_id == tenant_id,
            Finding.received_at >= self.since,
            Finding.received_at < self.until,
        ]
        if self.client_id is not None:
            clauses.append(Finding.client_id == self.client_id)
        if self.restricted_to_client is not None:
            clauses.append(Finding.client_id == self.restricted_to_client)
        if self.connection_id is not None:
            clauses.append(Finding.connection_id == self.connection_id)
        return clauses


class StatsRepository:
    """Aggregates over findings, computed in Postgres (counts and percentiles)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_status(self, tenant_id: TenantId, f: StatsFilter) -> dict[FindingStatus, int]:
        stmt = (
            select(Finding.status, func.count()).where(*f.where(tenant_id)).group_by(Finding.status)
        )
        return {status: int(n) for status, n in (await self.session.execute(stmt)).all()}

    async def by_type_and_day(
        self, tenant_id: TenantId, f: StatsFilter
    ) -> list[tuple[dt.date, str, int]]:
        entity_type = (
            func.unnest(Finding.types).table_valued("type").render_derived(name="entity_type")
        )
        day = cast(func.timezone("UTC", Finding.received_at), Date).label("day")
        type_col = entity_type.c.type
        stmt = (
            select(day, type_col, func.count())
            .select_from(Finding)
            .join(entity_type, literal_column("true"))
            .where(*f.where(tenant_id))
            .group_by(day, type_col)
            .order_by(day, type_col)
        )
        return [(d, str(t), int(n)) for d, t, n in (await self.session.execute(stmt)).all()]

    async def hide_figures(
        self, tenant_id: TenantId, f: StatsFilter
    ) -> tuple[int, int, int, float | None, float | None]:
        """(ever hidden, unhidden, timed samples, p50 ms, p95 ms) of time-to-hide."""
        ms = func.extract("epoch", Finding.hidden_at - Finding.received_at) * 1000
        timed = Finding.hidden_at.is_not(None)
        stmt = select(
            func.count().filter(or_(timed, Finding.status == FindingStatus.UNHIDDEN)),
            func.count().filter(Finding.status == FindingStatus.UNHIDDEN),
            func.count().filter(timed),
            func.percentile_cont(0.5).within_group(ms).filter(timed),
            func.percentile_cont(0.95).within_group(ms).filter(timed),
        ).where(*f.where(tenant_id))
        ever, unhidden, samples, p50, p95 = (await self.session.execute(stmt)).one()
        return (
            int(ever),
            int(unhidden),
            int(samples),
            None if p50 is None else float(p50),
            None if p95 is None else float(p95),
        )
