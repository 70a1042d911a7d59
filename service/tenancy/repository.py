from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.pagination import page_of, paginate
from service.tenancy.models import Client, Tenant


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    def add(self, tenant: Tenant) -> None:
        self.session.add(tenant)


class ClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId, client_id: uuid.UUID) -> Client | None:
        return await self.session.get(Client, (tenant_id, client_id))

    async def list(
        self, tenant_id: TenantId, *, only: uuid.UUID | None, cursor: str | None, limit: int
    ) -> tuple[list[Client], str | None]:
        stmt = select(Client).where(Client.tenant_id == tenant_id)
        if only is not None:
            stmt = stmt.where(Client.id == only)
        rows = (await self.session.scalars(paginate(stmt, Client.id, cursor, limit))).all()
        return page_of(rows, limit, lambda c: c.id)

    def add(self, client: Client) -> None:
        self.session.add(client)

    async def delete(self, client: Client) -> None:
        await self.session.delete(client)
