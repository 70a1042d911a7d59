from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import NamedTuple, cast

from sqlalchemy import ARRAY, String, Table, any_, literal, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus
from service.ids import new_id
from service.moderation.models import ActionKind, ActionStatus, ModerationAction

_ACTIONS = cast(Table, ModerationAction.__table__)


class Wanted(NamedTuple):
    """An action a comment calls for (see ``ActionRepository.ensure_many``)."""

    finding_id: uuid.UUID | None
    comment_id: str
    kind: ActionKind
    requested_by: str
    status: ActionStatus = ActionStatus.PENDING
    done_at: dt.datetime | None = None


class ActionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId, action_id: uuid.UUID) -> ModerationAction | None:
        return await self.session.get(ModerationAction, (tenant_id, action_id))

    async def lock(self, tenant_id: TenantId, action_id: uuid.UUID) -> ModerationAction | None:
        """The action, locked for this transaction; None when missing or another worker holds
        it (that worker is performing it right now)."""
        stmt = (
            select(ModerationAction)
            .where(ModerationAction.tenant_id == tenant_id, ModerationAction.id == action_id)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def lock_many(
        self, tenant_id: TenantId, action_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ModerationAction]:
        """The actions, locked for this transaction, by id; those another worker holds (it is
        performing them right now) or that do not exist are left out."""
        stmt = (
            select(ModerationAction)
            .where(
                ModerationAction.tenant_id == tenant_id,
                ModerationAction.id == any_(literal(list(action_ids), ARRAY(UUID))),
            )
            .order_by(ModerationAction.id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return {a.id: a for a in (await self.session.scalars(stmt)).all()}

    async def existing(
        self, tenant_id: TenantId, action_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        stmt = select(ModerationAction.id).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.id == any_(literal(list(action_ids), ARRAY(UUID))),
        )
        return set((await self.session.scalars(stmt)).all())

    async def ensure(
        self,
        tenant_id: TenantId,
        *,
        connection_id: uuid.UUID,
        finding_id: uuid.UUID | None,
        comment_id: str,
        kind: ActionKind,
        requested_by: str,
        status: ActionStatus = ActionStatus.PENDING,
        done_at: dt.datetime | None = None,
    ) -> tuple[ModerationAction, bool]:
        """The one action row of this kind for this comment, created if absent.
        Returns (row, created)."""
        wanted = Wanted(finding_id, comment_id, kind, requested_by, status, done_at)
        ensured = await self.ensure_many(tenant_id, connection_id, [wanted])
        return ensured[comment_id, kind]

    async def ensure_many(
        self, tenant_id: TenantId, connection_id: uuid.UUID, wanted: Sequence[Wanted]
    ) -> dict[tuple[str, ActionKind], tuple[ModerationAction, bool]]:
        """The one action row per (comment, kind) for each of ``wanted``, the missing ones
        created in one statement. Returns (row, created) by (comment id, kind)."""
        if not wanted:
            return {}
        table = _ACTIONS
        insert_stmt = (
            insert(table)
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "connection_id", "comment_id", "kind"]
            )
            .returning(table.c.id)
        )
        params = [
            {
                "tenant_id": tenant_id,
                "id": new_id(),
                "connection_id": connection_id,
                "finding_id": w.finding_id,
                "comment_id": w.comment_id,
                "kind": w.kind,
                "status": w.status,
                "attempts": 0,
                "requested_by": w.requested_by,
                "done_at": w.done_at,
            }
            for w in wanted
        ]
        inserted = (await self.session.execute(insert_stmt, params)).scalars()
        created = set(inserted)
        kinds = {(w.comment_id, w.kind) for w in wanted}
        stmt = select(ModerationAction).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.connection_id == connection_id,
            ModerationAction.comment_id
            == any_(literal(sorted({w.comment_id for w in wanted}), ARRAY(String))),
        )
        rows = (await self.session.scalars(stmt.execution_options(populate_existing=True))).all()
        return {
            (row.comment_id, row.kind): (row, row.id in created)
            for row in rows
            if (row.comment_id, row.kind) in kinds
        }

    async def for_comment(
        self, tenant_id: TenantId, connection_id: uuid.UUID, comment_id: str, *, lock: bool = False
    ) -> dict[ActionKind, ModerationAction]:
        """The comment's actions by kind. ``lock``: row locks, taken in the order a worker
        performing an action takes them (action, then finding), so the two never deadlock."""
        stmt = select(ModerationAction).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.connection_id == connection_id,
            ModerationAction.comment_id == comment_id,
        )
        if lock:
            stmt = stmt.order_by(ModerationAction.id).with_for_update()
        return {a.kind: a for a in (await self.session.scalars(stmt)).all()}

    async def of_comments(
        self,
        tenant_id: TenantId,
        connection_id: uuid.UUID,
        comment_ids: Sequence[str],
        kind: ActionKind,
    ) -> dict[str, ModerationAction]:
        """The action of ``kind`` of each of these comments that has one, by comment id."""
        stmt = select(ModerationAction).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.connection_id == connection_id,
            ModerationAction.kind == kind,
            ModerationAction.comment_id == any_(literal(list(comment_ids), ARRAY(String))),
        )
        return {a.comment_id: a for a in (await self.session.scalars(stmt)).all()}

    async def own_replies(
        self, tenant_id: TenantId, connection_id: uuid.UUID, comment_ids: Sequence[str]
    ) -> set[str]:
        """Those of ``comment_ids`` that are replies Wallguard posted (they come back as events
        and in scans)."""
        if not comment_ids:
            return set()
        stmt = select(ModerationAction.result_id).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.connection_id == connection_id,
            ModerationAction.kind == ActionKind.REPLY,
            ModerationAction.result_id == any_(literal(list(comment_ids), ARRAY(String))),
        )
        return {r for r in (await self.session.scalars(stmt)).all() if r is not None}

    async def stale_pending(
        self, older_than: dt.datetime, limit: int, *, tenant_id: TenantId | None = None
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant id, action id) of pending actions untouched since ``older_than`` and not
        locked by a worker, on active connections, across tenants unless ``tenant_id`` is
        given: needs a system unit of work."""
        stmt = (
            select(ModerationAction.tenant_id, ModerationAction.id)
            .join(
                Connection,
                (Connection.tenant_id == ModerationAction.tenant_id)
                & (Connection.id == ModerationAction.connection_id),
            )
            .where(
                ModerationAction.status == ActionStatus.PENDING,
                ModerationAction.updated_at < older_than,
                Connection.status == ConnectionStatus.ACTIVE,
            )
            .order_by(ModerationAction.updated_at)
            .limit(limit)
            # Rows a worker is working on are locked by it: not stale, whatever their age.
            .with_for_update(of=ModerationAction, skip_locked=True)
        )
        if tenant_id is not None:
            stmt = stmt.where(ModerationAction.tenant_id == tenant_id)
        return [(t, i) for t, i in (await self.session.execute(stmt)).all()]
