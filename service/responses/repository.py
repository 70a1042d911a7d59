from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    UUID,
    String,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.auth.types import TenantId
from service.connections.models import Connection
from service.findings.models import Finding, FindingStatus
from service.ids import new_id
from service.responses.models import TrackedComment

_TRACKED = cast(Table, TrackedComment.__table__)
# RETURNING makes SQLAlchemy send the rows as multi-row INSERTs (insertmanyvalues); without it
# asyncpg's executemany runs one INSERT per row on the server.
_INSERT_NEW = (
    insert(_TRACKED)
    .on_conflict_do_nothing(index_elements=["tenant_id", "connection_id", "comment_id"])
    .returning(_TRACKED.c.id)
)
# The tracker's one statement for a tick's rows: customer comments (``apply``) get their terms,
# every row is marked processed.
_SETTLE = text(
    """
    UPDATE tracked_comments AS t SET
        processed = true,
        promise_minutes = CASE WHEN v.apply THEN v.promise ELSE t.promise_minutes END,
        counts_when_hidden = CASE WHEN v.apply THEN v.counts ELSE t.counts_when_hidden END,
        deadline_at = CASE WHEN v.apply THEN v.deadline ELSE t.deadline_at END
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:apply AS boolean[]), CAST(:promise AS integer[]),
        CAST(:counts AS boolean[]), CAST(:deadline AS timestamptz[])
    ) AS v(id, apply, promise, counts, deadline)
    WHERE t.tenant_id = :tenant_id AND t.id = v.id
    """
)


class Fresh(NamedTuple):
    """A row the tracker has not processed yet."""

    id: uuid.UUID
    connection_id: uuid.UUID
    thread_id: str
    by_page: bool
    commented_at: dt.datetime


class Settled(NamedTuple):
    """What the tracker writes to a row: the terms for a customer comment (``apply``)."""

    id: uuid.UUID
    apply: bool
    promise_minutes: int | None
    counts_when_hidden: bool
    deadline_at: dt.datetime | None


# A comment hidden for personal data no longer awaits a public reply (unless the terms say so).
HIDDEN_STATUSES = (FindingStatus.PENDING_HIDE, FindingStatus.HIDDEN)


def _hidden() -> Any:
    return exists().where(
        Finding.tenant_id == TrackedComment.tenant_id,
        Finding.connection_id == TrackedComment.connection_id,
        Finding.comment_id == TrackedComment.comment_id,
        Finding.status.in_(HIDDEN_STATUSES),
    )


def awaiting_reply() -> Any:
    """Customer comments that count: not the page's own, not hidden for personal data unless
    the terms in force when it was tracked say hidden comments still count."""
    return and_(
        TrackedComment.by_page.is_(False),
        or_(TrackedComment.counts_when_hidden.is_(True), ~_hidden()),
    )


class Scope:
    """Which comments a report covers."""

    def __init__(
        self,
        *,
        client_id: uuid.UUID | None = None,
        connection_id: uuid.UUID | None = None,
        restricted_to_client: uuid.UUID | None = None,
    ) -> None:
        self.client_id = client_id
        self.connection_id = connection_id
        self.restricted_to_client = restricted_to_client

    def where(self, tenant_id: TenantId) -> list[Any]:
        clauses: list[Any] = [TrackedComment.tenant_id == tenant_id, awaiting_reply()]
        if self.client_id is not None:
            clauses.append(TrackedComment.client_id == self.client_id)
        if self.restricted_to_client is not None:
            clauses.append(TrackedComment.client_id == self.restricted_to_client)
        if self.connection_id is not None:
            clauses.append(TrackedComment.connection_id == self.connection_id)
        return clauses


class ResponseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the comments not tracked yet; a comment seen before (a poll overlapping a
        webhook, an edit) keeps its first record. One cached statement for any number of rows:
        SQLAlchemy sends them as multi-row INSERTs (insertmanyvalues, within the parameter
        limit) without compiling a statement per batch size, which on the hot path matters."""
        if rows:
            params = [{"id": new_id(), **row} for row in rows]
            await self.session.execute(_INSERT_NEW, params)

    async def connections(
        self, tenant_id: TenantId, connection_ids: Collection[uuid.UUID]
    ) -> list[Connection]:
        if not connection_ids:
            return []
        stmt = select(Connection).where(
            Connection.tenant_id == tenant_id, Connection.id.in_(list(connection_ids))
        )
        return list((await self.session.scalars(stmt)).all())

    # --- the tracker --------------------------------------------------------------------------

    async def tenants_with_unprocessed(self, limit: int) -> list[uuid.UUID]:
        stmt = (
            select(TrackedComment.tenant_id)
            .where(TrackedComment.processed.is_(False))
            .group_by(TrackedComment.tenant_id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def unprocessed(self, tenant_id: TenantId, limit: int) -> list[Fresh]:
        """The tenant's rows the tracker has not looked at, locked (SKIP LOCKED), as plain rows:
        a busy page leaves thousands a tick, and ORM objects for them cost more than the
        work."""
        t = TrackedComment
        stmt = (
            select(t.id, t.connection_id, t.thread_id, t.by_page, t.commented_at)
            .where(t.tenant_id == tenant_id, t.processed.is_(False))
            .order_by(t.commented_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [Fresh(*row) for row in (await self.session.execute(stmt)).all()]

    async def settle(self, tenant_id: TenantId, settled: Sequence[Settled]) -> None:
        """Mark rows processed, giving customer comments their terms, in one statement."""
        if not settled:
            return
        await self.session.execute(
            _SETTLE,
            {
                "tenant_id": tenant_id,
                "ids": [s.id for s in settled],
                "apply": [s.apply for s in settled],
                "promise": [s.promise_minutes for s in settled],
                "counts": [s.counts_when_hidden for s in settled],
                "deadline": [s.deadline_at for s in settled],
            },
        )

    async def replied_threads(
        self, tenant_id: TenantId, keys: Collection[tuple[uuid.UUID, str]]
    ) -> list[TrackedComment]:
        """Every row of those of the threads ``keys`` that hold a page reply: only they have
        anything to link. The keys go as two arrays joined through the thread index: a list of
        row comparisons (``(a, b) IN (...)``) is tested row by row against every key, which
        at thousands of keys a tick took Postgres longer than the tick."""
        if not keys:
            return []
        t, reply = TrackedComment, aliased(TrackedComment)
        wanted = (
            func.unnest(
                literal([c for c, _ in keys], ARRAY(UUID)),
                literal([thread for _, thread in keys], ARRAY(String)),
            )
            .table_valued("connection_id", "thread_id")
            .render_derived()
        )
        replied = (
            select(reply.connection_id, reply.thread_id)
            .join(
                wanted,
                and_(
                    reply.connection_id == wanted.c.connection_id,
                    reply.thread_id == wanted.c.thread_id,
                ),
            )
            .where(reply.tenant_id == tenant_id, reply.by_page.is_(True))
            .distinct()
            .subquery()
        )
        stmt = (
            select(t)
            .join(
                replied,
                and_(
                    t.connection_id == replied.c.connection_id,
                    t.thread_id == replied.c.thread_id,
                ),
            )
            .where(t.tenant_id == tenant_id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def tenants_with_broken_promises(
        self, now: dt.datetime, lookback: dt.timedelta, limit: int
    ) -> list[uuid.UUID]:
        stmt = (
            select(TrackedComment.tenant_id)
            .where(*_broken(now, lookback))
            .group_by(TrackedComment.tenant_id)
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())

    async def broken_promises(
        self, tenant_id: TenantId, now: dt.datetime, lookback: dt.timedelta, limit: int
    ) -> list[TrackedComment]:
        stmt = (
            select(TrackedComment)
            .where(TrackedComment.tenant_id == tenant_id, *_broken(now, lookback))
            .order_by(TrackedComment.deadline_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(stmt)).all())

    # --- reports ------------------------------------------------------------------------------

    async def figures(
        self,
        tenant_id: TenantId,
        scope: Scope,
        since: dt.datetime,
        until: dt.datetime,
        now: dt.datetime,
    ) -> list[dict[str, Any]]:
        """Per connection: comments, answered, p50/p90 service seconds, promised, within and
        breached; plus one row with ``connection_id`` None for them all."""
        t = TrackedComment
        answered = t.first_reply_at.is_not(None)
        breached = and_(
            t.deadline_at.is_not(None),
            or_(
                t.first_reply_at > t.deadline_at,
                and_(t.first_reply_at.is_(None), t.deadline_at < now),
            ),
        )
        within = and_(t.deadline_at.is_not(None), t.first_reply_at <= t.deadline_at)
        columns = (
            func.count().label("comments"),
            func.count().filter(answered).label("answered"),
            func.percentile_cont(0.5).within_group(t.response_seconds).label("p50"),
            func.percentile_cont(0.9).within_group(t.response_seconds).label("p90"),
            func.count().filter(t.deadline_at.is_not(None)).label("promised"),
            func.count().filter(within).label("within"),
            func.count().filter(breached).label("breached"),
        )
        where = [*scope.where(tenant_id), t.commented_at >= since, t.commented_at < until]
        rows: list[dict[str, Any]] = []
        total = (await self.session.execute(select(*columns).where(*where))).one()
        rows.append({"connection_id": None, "client_id": None, **total._asdict()})
        per = await self.session.execute(
            select(t.connection_id, t.client_id, *columns)
            .where(*where)
            .group_by(t.connection_id, t.client_id)
            .order_by(t.connection_id)
        )
        rows.extend(r._asdict() for r in per.all())
        return rows

    async def waiting(
        self,
        tenant_id: TenantId,
        scope: Scope,
        after: tuple[dt.datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[TrackedComment]:
        """Customer comments without a reply, oldest first (keyset on time and id)."""
        t = TrackedComment
        stmt = select(t).where(*scope.where(tenant_id), t.first_reply_at.is_(None))
        if after is not None:
            stmt = stmt.where(tuple_(t.commented_at, t.id) > tuple_(*after))
        stmt = stmt.order_by(t.commented_at, t.id).limit(limit + 1)
        return list((await self.session.scalars(stmt)).all())


def _broken(now: dt.datetime, lookback: dt.timedelta) -> list[Any]:
    t = TrackedComment
    return [
        t.overdue_at.is_(None),
        t.by_page.is_(False),
        t.deadline_at < now,
        t.deadline_at >= now - lookback,
        or_(t.first_reply_at.is_(None), t.first_reply_at > t.deadline_at),
        or_(t.counts_when_hidden.is_(True), ~_hidden()),
    ]
