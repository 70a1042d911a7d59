from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.servicehours.models import ServiceHoursRow


class ServiceHoursRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_client(self, tenant_id: TenantId, client_id: uuid.UUID) -> ServiceHoursRow | None:
        stmt = select(ServiceHoursRow).where(
            ServiceHoursRow.tenant_id == tenant_id,
            ServiceHoursRow.client_id == client_id,
            ServiceHoursRow.connection_id.is_(None),
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def for_connection(
        self, tenant_id: TenantId, connection_id: uuid.UUID
    ) -> ServiceHoursRow | None:
        stmt = select(ServiceHoursRow).where(
            ServiceHoursRow.tenant_id == tenant_id,
            ServiceHoursRow.connection_id == connection_id,
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def shaping(
        self,
        tenant_id: TenantId,
        client_ids: Collection[uuid.UUID],
        connection_ids: Collection[uuid.UUID],
    ) -> list[ServiceHoursRow]:
        """Every row that shapes these connections' hours (their overrides and their clients'
        hours), in one query."""
        if not client_ids and not connection_ids:
            return []
        stmt = select(ServiceHoursRow).where(
            ServiceHoursRow.tenant_id == tenant_id,
            or_(
                ServiceHoursRow.connection_id.in_(list(connection_ids)),
                (ServiceHoursRow.connection_id.is_(None))
                & ServiceHoursRow.client_id.in_(list(client_ids)),
            ),
        )
        return list((await self.session.scalars(stmt)).all())

    def add(self, row: ServiceHoursRow) -> None:
        self.session.add(row)

    async def delete(self, row: ServiceHoursRow) -> None:
        await self.session.delete(row)
