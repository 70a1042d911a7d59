from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import (
    ARRAY,
    UUID,
    Select,
    String,
    Table,
    and_,
    any_,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus
from service.connections.repository import watching_statement
from service.inbox.models import InboxEvent, InboxStatus

_EVENTS = cast(Table, InboxEvent.__table__)
_STORE_MANY = (
    insert(_EVENTS)
    .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    .returning(_EVENTS.c.id)
)


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def admission(
        self, tenant_id: TenantId, connection_ids: set[uuid.UUID], erased_refs: Select[str]
    ) -> tuple[set[uuid.UUID], list[str]]:
        """(those of ``connection_ids`` still watching, what ``erased_refs`` finds: the
        erasure tombstones of the delivery's comments and authors), in one statement: every
        delivery asks both before it is stored, and on the webhook answer a round trip costs
        more than either answer."""
        watching = watching_statement(tenant_id, connection_ids).subquery()
        erased = erased_refs.subquery()
        stmt = union_all(
            select(literal(True).label("connection"), cast_(watching.c.id, String)),
            select(literal(False), *erased.c),
        )
        alive: set[uuid.UUID] = set()
        found: list[str] = []
        for is_connection, value in (await self.session.execute(stmt)).all():
            if is_connection:
                alive.add(uuid.UUID(value))
            else:
                found.append(value)
        return alive, found

    async def store_many(
        self, tenant_id: TenantId, rows: Sequence[dict[str, object]]
    ) -> set[uuid.UUID]:
        """Insert events (each with its ``id``) in one statement, skipping those whose dedupe key
        is already stored; returns the ids that were inserted."""
        if not rows:
            return set()
        # One statement, compiled once: the rows go as executemany parameters (SQLAlchemy sends
        # them as one multi-row INSERT), not as a VALUES list compiled anew for every delivery.
        result = await self.session.execute(
            _STORE_MANY, [{"tenant_id": tenant_id, **row} for row in rows]
        )
        return set(result.scalars().all())

    async def settle(
        self,
        tenant_id: TenantId,
        event_ids: Sequence[uuid.UUID],
        status: InboxStatus,
        at: dt.datetime,
        reason: str | None = None,
    ) -> None:
        """Mark events done (or skipped, failed) in one statement, and drop their payloads: once
        an event is settled nothing needs the comment's text."""
        if not event_ids:
            return
        await self.session.execute(
            update(InboxEvent)
            .where(
                InboxEvent.tenant_id == tenant_id,
                InboxEvent.id == any_(literal(list(event_ids), ARRAY(UUID))),
            )
            .values(status=status, last_error=reason, processed_at=at, payload_ciphertext=None)
            .execution_options(synchronize_session=False)
        )

    async def get(self, tenant_id: TenantId, event_id: uuid.UUID) -> InboxEvent | None:
        return await self.session.get(InboxEvent, (tenant_id, event_id))

    async def lock(self, tenant_id: TenantId, event_id: uuid.UUID) -> InboxEvent | None:
        """The event, row-locked; None when it is gone or another worker holds it."""
        stmt = (
            select(InboxEvent)
            .where(InboxEvent.tenant_id == tenant_id, InboxEvent.id == event_id)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def lock_ready(
        self,
        tenant_id: TenantId,
        connection_id: uuid.UUID,
        *,
        exclude: uuid.UUID | None = None,
        limit: int,
    ) -> Sequence[InboxEvent]:
        """Pending new, edited or hidden comments of the connection (but ``exclude``), oldest
        first, that no worker holds, row-locked: a backlog handled in one batch by whichever
        job comes first."""
        stmt = (
            select(InboxEvent)
            .where(
                InboxEvent.tenant_id == tenant_id,
                InboxEvent.connection_id == connection_id,
                InboxEvent.status == InboxStatus.PENDING,
                or_(
                    and_(
                        InboxEvent.field == "feed",
                        InboxEvent.item == "comment",
                        InboxEvent.verb.in_(("add", "edited", "hide")),
                    ),
                    and_(
                        InboxEvent.field == "comments",
                        or_(InboxEvent.verb.is_(None), InboxEvent.verb.in_(("add", "edited"))),
                    ),
                ),
            )
            .order_by(InboxEvent.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if exclude is not None:
            stmt = stmt.where(InboxEvent.id != exclude)
        return (await self.session.scalars(stmt)).all()

    async def recent_post_ids(
        self, tenant_id: TenantId, connection_id: uuid.UUID, since: dt.datetime
    ) -> set[str]:
        """Posts of the connection that had webhook activity since ``since``."""
        stmt = (
            select(InboxEvent.post_id)
            .where(
                InboxEvent.tenant_id == tenant_id,
                InboxEvent.connection_id == connection_id,
                InboxEvent.received_at >= since,
                InboxEvent.post_id.is_not(None),
            )
            .distinct()
        )
        return {p for p in (await self.session.scalars(stmt)).all() if p}

    async def stale_pending(
        self, older_than: dt.datetime, limit: int, *, tenant_id: TenantId | None = None
    ) -> Sequence[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant id, event id) of events still pending, untouched since ``older_than`` and
        not locked by a worker, on active connections only (a page in needs_reauth keeps its
        backlog until it is re-authorised). Crosses tenants unless ``tenant_id`` is given:
        needs a system unit of work."""
        stmt = (
            select(InboxEvent.tenant_id, InboxEvent.id)
            .join(
                Connection,
                (Connection.tenant_id == InboxEvent.tenant_id)
                & (Connection.id == InboxEvent.connection_id),
            )
            .where(
                InboxEvent.status == InboxStatus.PENDING,
                InboxEvent.updated_at < older_than,
                Connection.status == ConnectionStatus.ACTIVE,
            )
            .order_by(InboxEvent.updated_at)
            .limit(limit)
            # Rows a worker is working on are locked by it: not stale, whatever their age.
            .with_for_update(of=InboxEvent, skip_locked=True)
        )
        if tenant_id is not None:
            stmt = stmt.where(InboxEvent.tenant_id == tenant_id)
        return [(t, i) for t, i in (await self.session.execute(stmt)).all()]
