from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.apikeys.models import ApiKey
from service.auth.types import TenantId
from service.pagination import page_of, paginate


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId, key_id: uuid.UUID) -> ApiKey | None:
        return await self.session.get(ApiKey, (tenant_id, key_id))

    async def by_prefix(self, tenant_id: TenantId, prefix: str) -> ApiKey | None:
        stmt = select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.prefix == prefix)
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(
        self,
        tenant_id: TenantId,
        *,
        only_client: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[ApiKey], str | None]:
        stmt = select(ApiKey).where(ApiKey.tenant_id == tenant_id)
        if only_client is not None:
            stmt = stmt.where(ApiKey.client_id == only_client)
        rows = (await self.session.scalars(paginate(stmt, ApiKey.id, cursor, limit))).all()
        return page_of(rows, limit, lambda k: k.id)

    def add(self, key: ApiKey) -> None:
        self.session.add(key)
