"""Queries of the erasure domain: requests, and what is held about one author."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.models import Connection
from service.erasure.models import ErasureRequest, ErasureStatus
from service.findings.models import Finding
from service.inbox.models import InboxEvent
from service.moderation.models import ActionStatus, ModerationAction
from service.pagination import page_of, paginate
from service.responses.models import TrackedComment


class ErasureRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, request: ErasureRequest) -> None:
        self.session.add(request)

    async def get(self, tenant_id: TenantId, request_id: uuid.UUID) -> ErasureRequest | None:
        return await self.session.get(ErasureRequest, (tenant_id, request_id))

    async def lock(self, tenant_id: TenantId, request_id: uuid.UUID) -> ErasureRequest | None:
        stmt = (
            select(ErasureRequest)
            .where(ErasureRequest.tenant_id == tenant_id, ErasureRequest.id == request_id)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(
        self, tenant_id: TenantId, *, cursor: str | None, limit: int
    ) -> tuple[list[ErasureRequest], str | None]:
        stmt = select(ErasureRequest).where(ErasureRequest.tenant_id == tenant_id)
        rows = (await self.session.scalars(paginate(stmt, ErasureRequest.id, cursor, limit))).all()
        return page_of(rows, limit, lambda r: r.id)

    async def for_author(self, tenant_id: TenantId, author_ref: str) -> Sequence[uuid.UUID]:
        stmt = select(ErasureRequest.id).where(
            ErasureRequest.tenant_id == tenant_id, ErasureRequest.author_ref == author_ref
        )
        return (await self.session.scalars(stmt.order_by(ErasureRequest.id))).all()

    async def open_and_stale(
        self, updated_before: dt.datetime, limit: int
    ) -> Sequence[ErasureRequest]:
        """Across tenants (system work): requests whose job was lost."""
        stmt = (
            select(ErasureRequest)
            .where(
                ErasureRequest.status.in_([ErasureStatus.PENDING, ErasureStatus.RUNNING]),
                ErasureRequest.updated_at < updated_before,
            )
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()


class SubjectRepository:
    """What is held about one author, and removing it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def findings(
        self,
        tenant_id: TenantId,
        *,
        platform: str | None,
        author_id: str | None,
        finding_id: uuid.UUID | None,
        limit: int | None = None,
    ) -> list[Finding]:
        conditions: list[ColumnElement[bool]] = []
        if author_id is not None and platform is not None:
            conditions.append(
                (Finding.author_id == author_id)
                & Finding.connection_id.in_(
                    select(Connection.id).where(
                        Connection.tenant_id == tenant_id, Connection.platform == platform
                    )
                )
            )
        if finding_id is not None:
            conditions.append(Finding.id == finding_id)
        if not conditions:
            return []
        stmt = (
            select(Finding)
            .where(Finding.tenant_id == tenant_id, or_(*conditions))
            .order_by(Finding.id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def inbox_events(
        self, tenant_id: TenantId, platform: str, author_id: str
    ) -> list[tuple[uuid.UUID, uuid.UUID, str | None]]:
        """(id, connection_id, object_id) of the author's events on that platform."""
        stmt = select(InboxEvent.id, InboxEvent.connection_id, InboxEvent.object_id).where(
            InboxEvent.tenant_id == tenant_id,
            InboxEvent.sender_id == author_id,
            InboxEvent.connection_id.in_(
                select(Connection.id).where(
                    Connection.tenant_id == tenant_id, Connection.platform == platform
                )
            ),
        )
        return [(r[0], r[1], r[2]) for r in (await self.session.execute(stmt)).all()]

    async def count_actions(
        self, tenant_id: TenantId, comments: Sequence[tuple[uuid.UUID, str]]
    ) -> int:
        if not comments:
            return 0
        stmt = select(func.count()).where(
            ModerationAction.tenant_id == tenant_id,
            tuple_(ModerationAction.connection_id, ModerationAction.comment_id).in_(comments),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def delete_actions(
        self,
        tenant_id: TenantId,
        comments: Sequence[tuple[uuid.UUID, str]],
        *,
        pending_too: bool,
    ) -> int:
        """Moderation actions on these comments. A pending hide still protects the author
        while the comment stays on the page: it goes only when the comment was deleted."""
        if not comments:
            return 0
        stmt = delete(ModerationAction).where(
            ModerationAction.tenant_id == tenant_id,
            tuple_(ModerationAction.connection_id, ModerationAction.comment_id).in_(comments),
        )
        if not pending_too:
            stmt = stmt.where(ModerationAction.status != ActionStatus.PENDING)
        result = await self.session.execute(stmt.returning(ModerationAction.id))
        return len(result.all())

    async def delete_findings(self, tenant_id: TenantId, ids: Sequence[uuid.UUID]) -> int:
        if not ids:
            return 0
        result = await self.session.execute(
            delete(Finding)
            .where(Finding.tenant_id == tenant_id, Finding.id.in_(ids))
            .returning(Finding.id)
        )
        return len(result.all())

    async def delete_inbox_events(
        self,
        tenant_id: TenantId,
        ids: Sequence[uuid.UUID],
        comments: Sequence[tuple[uuid.UUID, str]],
    ) -> int:
        conditions: list[ColumnElement[bool]] = []
        if ids:
            conditions.append(InboxEvent.id.in_(ids))
        if comments:
            conditions.append(tuple_(InboxEvent.connection_id, InboxEvent.object_id).in_(comments))
        if not conditions:
            return 0
        result = await self.session.execute(
            delete(InboxEvent)
            .where(InboxEvent.tenant_id == tenant_id, or_(*conditions))
            .returning(InboxEvent.id)
        )
        return len(result.all())

    async def delete_tracked_comments(
        self, tenant_id: TenantId, comments: Sequence[tuple[uuid.UUID, str]]
    ) -> int:
        """The response-time rows of these comments (they hold no author, so the author's
        comments are known by id from the findings and inbox events)."""
        if not comments:
            return 0
        result = await self.session.execute(
            delete(TrackedComment)
            .where(
                TrackedComment.tenant_id == tenant_id,
                tuple_(TrackedComment.connection_id, TrackedComment.comment_id).in_(comments),
            )
            .returning(TrackedComment.id)
        )
        return len(result.all())
