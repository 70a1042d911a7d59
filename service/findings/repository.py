from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ARRAY, String, Table, any_, literal, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.findings.models import Finding, FindingStatus
from service.ids import new_id
from service.pagination import page_of, page_of_changes, paginate, paginate_changes

_FINDINGS = cast(Table, Finding.__table__)


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

    async def lock_many(
        self, tenant_id: TenantId, finding_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Finding]:
        """The findings, locked for this transaction (in id order, as every batch takes them,
        so two batches never deadlock), by id."""
        if not finding_ids:
            return {}
        stmt = (
            select(Finding)
            .where(
                Finding.tenant_id == tenant_id,
                Finding.id == any_(literal(sorted(set(finding_ids)), ARRAY(UUID))),
            )
            .order_by(Finding.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {f.id: f for f in (await self.session.scalars(stmt)).all()}

    async def by_comments(
        self, tenant_id: TenantId, connection_id: uuid.UUID, comment_ids: Sequence[str]
    ) -> dict[str, Finding]:
        """The findings of these comments, locked for this transaction, by comment id."""
        if not comment_ids:
            return {}
        stmt = (
            select(Finding)
            .where(
                Finding.tenant_id == tenant_id,
                Finding.connection_id == connection_id,
                Finding.comment_id == any_(literal(list(comment_ids), ARRAY(String))),
            )
            .order_by(Finding.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {f.comment_id: f for f in (await self.session.scalars(stmt)).all()}

    async def insert_new(
        self, tenant_id: TenantId, rows: Sequence[dict[str, Any]]
    ) -> dict[str, uuid.UUID]:
        """Insert the findings whose comments have none yet, in one statement (two workers may
        race on one comment: the unique key decides). Returns the new ids by comment id; a
        comment left out already had its finding."""
        if not rows:
            return {}
        # One cached statement for any number of rows: SQLAlchemy sends them as a multi-row
        # INSERT (insertmanyvalues) without compiling a statement per batch size.
        stmt = (
            insert(_FINDINGS)
            .on_conflict_do_nothing(index_elements=["tenant_id", "connection_id", "comment_id"])
            .returning(_FINDINGS.c.comment_id, _FINDINGS.c.id)
        )
        params = [{"tenant_id": tenant_id, "id": new_id(), **row} for row in rows]
        result = await self.session.execute(stmt, params)
        return {comment_id: id_ for comment_id, id_ in result.all()}

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
        updated_since: dt.datetime | None = None,
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
        if updated_since is not None:
            stmt = paginate_changes(
                stmt, Finding.updated_at, Finding.id, updated_since, cursor, limit
            )
            changed = (await self.session.scalars(stmt)).all()
            return page_of_changes(changed, limit, lambda f: (f.updated_at, f.id))
        rows = (await self.session.scalars(paginate(stmt, Finding.id, cursor, limit))).all()
        return page_of(rows, limit, lambda f: f.id)
