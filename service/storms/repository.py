from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.models import Connection
from service.pagination import paginate
from service.responses.models import TrackedComment
from service.storms.models import CommentCount, Storm, StormStatus


def _customer(tenant_id: Any, connection_id: uuid.UUID) -> list[Any]:
    t = TrackedComment
    return [t.tenant_id == tenant_id, t.connection_id == connection_id, t.by_page.is_(False)]


class StormRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- across tenants (the watcher's system unit of work) ---------------------------------

    async def commenting(
        self, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant, connection) pairs with customer comments made in (since, until]."""
        t = TrackedComment
        stmt = (
            select(t.tenant_id, t.connection_id)
            .where(t.by_page.is_(False), t.commented_at > since, t.commented_at <= until)
            .group_by(t.tenant_id, t.connection_id)
        )
        return [(a, b) for a, b in (await self.session.execute(stmt)).all()]

    async def storming(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        stmt = select(Storm.tenant_id, Storm.connection_id).where(
            Storm.status == StormStatus.ACTIVE
        )
        return [(a, b) for a, b in (await self.session.execute(stmt)).all()]

    # --- one connection -------------------------------------------------------------------------

    async def count_comments(
        self, tenant_id: TenantId, connection_id: uuid.UUID, since: dt.datetime, until: dt.datetime
    ) -> int:
        t = TrackedComment
        stmt = select(func.count()).where(
            *_customer(tenant_id, connection_id), t.commented_at > since, t.commented_at <= until
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def first_comment(
        self, tenant_id: TenantId, connection_id: uuid.UUID, since: dt.datetime, until: dt.datetime
    ) -> dt.datetime:
        """The first customer comment made in (since, until] (``until`` when none)."""
        t = TrackedComment
        stmt = select(func.min(t.commented_at)).where(
            *_customer(tenant_id, connection_id), t.commented_at > since, t.commented_at <= until
        )
        value: dt.datetime | None = (await self.session.execute(stmt)).scalar_one()
        return value or until

    async def connection(self, tenant_id: TenantId, connection_id: uuid.UUID) -> Connection | None:
        return await self.session.get(Connection, (tenant_id, connection_id))

    async def first_counted(
        self, tenant_id: TenantId, connection_id: uuid.UUID
    ) -> dt.datetime | None:
        stmt = select(func.min(CommentCount.minute)).where(
            CommentCount.tenant_id == tenant_id, CommentCount.connection_id == connection_id
        )
        value: dt.datetime | None = (await self.session.execute(stmt)).scalar_one()
        return value

    async def recount(
        self, tenant_id: TenantId, connection_id: uuid.UUID, since: dt.datetime, until: dt.datetime
    ) -> None:
        """Count the customer comments per minute in [since, until] again, into comment_counts
        (comments arrive late: a webhook lags, a poll catches up)."""
        t = TrackedComment
        minute = func.date_trunc("minute", t.commented_at)
        counted = (
            select(
                t.tenant_id,
                t.connection_id,
                minute.label("minute"),
                func.count().label("comments"),
            )
            .where(
                *_customer(tenant_id, connection_id),
                t.commented_at >= since,
                t.commented_at <= until,
            )
            .group_by(t.tenant_id, t.connection_id, minute)
        )
        stmt = insert(CommentCount).from_select(
            ["tenant_id", "connection_id", "minute", "comments"], counted
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "connection_id", "minute"],
            set_={"comments": stmt.excluded.comments, "updated_at": func.now()},
        )
        await self.session.execute(stmt)

    async def counted(
        self, tenant_id: TenantId, connection_id: uuid.UUID, since: dt.datetime, until: dt.datetime
    ) -> int:
        """Comments counted in the minutes [since, until)."""
        stmt = select(func.coalesce(func.sum(CommentCount.comments), literal(0))).where(
            CommentCount.tenant_id == tenant_id,
            CommentCount.connection_id == connection_id,
            CommentCount.minute >= since,
            CommentCount.minute < until,
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def top_posts(
        self,
        tenant_id: TenantId,
        connection_id: uuid.UUID,
        since: dt.datetime,
        until: dt.datetime,
        limit: int,
    ) -> list[tuple[str, int]]:
        t = TrackedComment
        n = func.count()
        stmt = (
            select(t.post_id, n)
            .where(
                *_customer(tenant_id, connection_id),
                t.commented_at >= since,
                t.commented_at <= until,
                t.post_id.is_not(None),
            )
            .group_by(t.post_id)
            .order_by(n.desc(), t.post_id)
            .limit(limit)
        )
        return [(str(p), int(c)) for p, c in (await self.session.execute(stmt)).all()]

    async def active(self, tenant_id: TenantId, connection_id: uuid.UUID) -> Storm | None:
        stmt = (
            select(Storm)
            .where(
                Storm.tenant_id == tenant_id,
                Storm.connection_id == connection_id,
                Storm.status == StormStatus.ACTIVE,
            )
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def prune_counts(self, before: dt.datetime) -> None:
        await self.session.execute(delete(CommentCount).where(CommentCount.minute < before))

    def add(self, storm: Storm) -> None:
        self.session.add(storm)

    async def counts(
        self,
        tenant_id: TenantId,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        since: dt.datetime,
        until: dt.datetime,
    ) -> dict[str, int]:
        """Storms started in [since, until) and storms in progress, in one query."""
        stmt = select(
            func.count().filter(Storm.started_at >= since, Storm.started_at < until),
            func.count().filter(Storm.status == StormStatus.ACTIVE),
        ).where(Storm.tenant_id == tenant_id)
        if client_id is not None:
            stmt = stmt.where(Storm.client_id == client_id)
        if connection_id is not None:
            stmt = stmt.where(Storm.connection_id == connection_id)
        started, active = (await self.session.execute(stmt)).one()
        return {"started": int(started), "active": int(active)}

    # --- the API --------------------------------------------------------------------------------

    async def get(self, tenant_id: TenantId, storm_id: uuid.UUID) -> Storm | None:
        return await self.session.get(Storm, (tenant_id, storm_id))

    async def page(
        self,
        tenant_id: TenantId,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        status: StormStatus | None,
        since: dt.datetime | None,
        cursor: str | None,
        limit: int,
    ) -> list[Storm]:
        stmt = select(Storm).where(Storm.tenant_id == tenant_id)
        if client_id is not None:
            stmt = stmt.where(Storm.client_id == client_id)
        if connection_id is not None:
            stmt = stmt.where(Storm.connection_id == connection_id)
        if status is not None:
            stmt = stmt.where(Storm.status == status)
        if since is not None:
            stmt = stmt.where(Storm.started_at >= since)
        stmt = paginate(stmt, Storm.id, cursor, limit)
        return list((await self.session.scalars(stmt)).all())
