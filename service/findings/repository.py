from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import any_, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.findings.models import Finding, FindingStatus
from service.ids import new_id
from service.pagination import page_of, paginate


class FindingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId, finding_id: uuid.UUID) -> Finding | None:
        return await self.session.get(Finding, (tenant_id, finding_id))

    async def lock(self, tenant_id: TenantId, finding_id: uuid.UUID) -> Finding | None:
        stmt = (
            select(Finding)
            .where(Finding.tenant_id == tenant_id, Finding.id == finding_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_comment(
        self, tenant_id: TenantId, connection_id: uuid.UUID, comment_id: str
    ) -> Finding | None:
        stmt = (
            select(Finding)
            .where(
                Finding.tenant_id == tenant_id,
                Finding.connection_id == connection_id,
                Finding.comment_id == comment_id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def insert_new(self, tenant_id: TenantId, values: dict[str, Any]) -> uuid.UUID | None:
        """Insert unless the comment already has a finding (two workers may race on one comment:
        the unique key decides). Returns the new id, or None when it existed."""
        finding_id = new_id()
        return (
            await self.session.execute(
                insert(Finding)
                .values(tenant_id=tenant_id, id=finding_id, **values)
                .on_conflict_do_nothing(index_elements=["tenant_id", "connection_id", "comment_id"])
                .returning(Finding.id)
            )
        ).scalar_one_or_none()

    async def list(
        self,
        tenant_id: TenantId,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        type_: str | None,
        status: FindingStatus | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Finding], str | None]:
        stmt = select(Finding).where(Finding.tenant_id == tenant_id)
        if client_id is not None:
            stmt = stmt.where(Finding.client_id == client_id)
        if connection_id is not None:
            stmt = stmt.where(Finding.connection_id == connection_id)
        if type_ is not None:
            stmt = stmt.where(literal(type_) == any_(Finding.types))
        if status is not None:
            stmt = stmt.where(Finding.status == status)
        if since is not None:
            stmt = stmt.where(Finding.received_at >= since)
        if until is not None:
            stmt = stmt.where(Finding.received_at < until)
        rows = (await self.session.scalars(paginate(stmt, Finding.id, cursor, limit))).all()
        return page_of(rows, limit, lambda f: f.id)
