from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.retention.models import RetentionSettings


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_tenant(self, tenant_id: TenantId) -> RetentionSettings | None:
        stmt = select(RetentionSettings).where(
            RetentionSettings.tenant_id == tenant_id, RetentionSettings.client_id.is_(None)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def for_client(
        self, tenant_id: TenantId, client_id: uuid.UUID
    ) -> RetentionSettings | None:
        stmt = select(RetentionSettings).where(
            RetentionSettings.tenant_id == tenant_id, RetentionSettings.client_id == client_id
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def client_overrides(self, tenant_id: TenantId) -> list[RetentionSettings]:
        stmt = select(RetentionSettings).where(
            RetentionSettings.tenant_id == tenant_id, RetentionSettings.client_id.is_not(None)
        )
        return list((await self.session.scalars(stmt)).all())

    async def get_or_add(
        self, tenant_id: TenantId, client_id: uuid.UUID | None
    ) -> RetentionSettings:
        row = (
            await self.for_tenant(tenant_id)
            if client_id is None
            else await self.for_client(tenant_id, client_id)
        )
        if row is None:
            row = RetentionSettings(tenant_id=tenant_id, client_id=client_id)
            self.session.add(row)
        return row
