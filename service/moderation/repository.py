from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.repository import ConnectionRepository
from service.ids import new_id
from service.moderation.models import ActionKind, ActionStatus, ModerationAction


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
        action_id = new_id()
        inserted = (
            await self.session.execute(
                insert(ModerationAction)
                .values(
                    tenant_id=tenant_id,
                    id=action_id,
                    connection_id=connection_id,
                    finding_id=finding_id,
                    comment_id=comment_id,
                    kind=kind,
                    status=status,
                    attempts=0,
                    requested_by=requested_by,
                    done_at=done_at,
                )
                .on_conflict_do_nothing(
                    index_elements=["tenant_id", "connection_id", "comment_id", "kind"]
                )
                .returning(ModerationAction.id)
            )
        ).scalar_one_or_none()
        stmt = select(ModerationAction).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.connection_id == connection_id,
            ModerationAction.comment_id == comment_id,
            ModerationAction.kind == kind,
        )
        row = (await self.session.scalars(stmt.execution_options(populate_existing=True))).one()
        return row, inserted is not None

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

    async def for_finding(
        self, tenant_id: TenantId, finding_id: uuid.UUID
    ) -> list[ModerationAction]:
        stmt = (
            select(ModerationAction)
            .where(
                ModerationAction.tenant_id == tenant_id,
                ModerationAction.finding_id == finding_id,
            )
            .order_by(ModerationAction.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def is_own_reply(
        self, tenant_id: TenantId, connection_id: uuid.UUID, comment_id: str
    ) -> bool:
        """Whether ``comment_id`` is a reply Wallguard posted (it comes back as an event)."""
        stmt = select(ModerationAction.id).where(
            ModerationAction.tenant_id == tenant_id,
            ModerationAction.connection_id == connection_id,
            ModerationAction.kind == ActionKind.REPLY,
            ModerationAction.result_id == comment_id,
        )
        return (await self.session.scalars(stmt.limit(1))).first() is not None

    async def stale_pending(
        self, older_than: dt.datetime, limit: int, *, tenant_id: TenantId | None = None
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant id, action id) of pending actions untouched since ``older_than`` on active
        connections, across tenants: needs a system unit of work."""
        return await ConnectionRepository(self.session).stale_pending(
            ModerationAction, ActionStatus.PENDING, older_than, limit, tenant_id=tenant_id
        )
