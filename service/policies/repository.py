from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.policies.models import Policy


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_client(self, tenant_id: TenantId, client_id: uuid.UUID) -> Policy | None:
        stmt = select(Policy).where(
            Policy.tenant_id == tenant_id,
            Policy.client_id == client_id,
            Policy.connection_id.is_(None),
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def for_connection(self, tenant_id: TenantId, connection_id: uuid.UUID) -> Policy | None:
        stmt = select(Policy).where(
            Policy.tenant_id == tenant_id, Policy.connection_id == connection_id
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def client_and_override(
        self, tenant_id: TenantId, client_id: uuid.UUID, connection_id: uuid.UUID
    ) -> tuple[Policy | None, Policy | None]:
        """Both rows that shape a connection's effective policy, in one query."""
        stmt = select(Policy).where(
            Policy.tenant_id == tenant_id,
            Policy.client_id == client_id,
            (Policy.connection_id.is_(None)) | (Policy.connection_id == connection_id),
        )
        client_policy: Policy | None = None
        override: Policy | None = None
        for row in (await self.session.scalars(stmt)).all():
            if row.connection_id is None:
                client_policy = row
            else:
                override = row
        return client_policy, override

    def add(self, policy: Policy) -> None:
        self.session.add(policy)

    async def delete(self, policy: Policy) -> None:
        await self.session.delete(policy)
