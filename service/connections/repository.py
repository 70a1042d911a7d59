from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, OAuthStateUse, Platform
from service.db import utcnow
from service.pagination import page_of, paginate


class ConnectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId, connection_id: uuid.UUID) -> Connection | None:
        return await self.session.get(Connection, (tenant_id, connection_id))

    async def get_for_update(
        self, tenant_id: TenantId, connection_id: uuid.UUID
    ) -> Connection | None:
        stmt = (
            select(Connection)
            .where(Connection.tenant_id == tenant_id, Connection.id == connection_id)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def by_external_id(
        self, tenant_id: TenantId, platform: Platform, external_id: str
    ) -> Connection | None:
        stmt = select(Connection).where(
            Connection.tenant_id == tenant_id,
            Connection.platform == platform,
            Connection.external_id == external_id,
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(
        self, tenant_id: TenantId, *, client_id: uuid.UUID | None, cursor: str | None, limit: int
    ) -> tuple[list[Connection], str | None]:
        stmt = select(Connection).where(Connection.tenant_id == tenant_id)
        if client_id is not None:
            stmt = stmt.where(Connection.client_id == client_id)
        rows = (await self.session.scalars(paginate(stmt, Connection.id, cursor, limit))).all()
        return page_of(rows, limit, lambda c: c.id)

    async def route(
        self, platform: Platform, external_ids: Sequence[str]
    ) -> builtins.list[Connection]:
        """Every tenant's connection for these pages. Needs a system unit of work: an inbound
        event names a page, and several tenants (an agency and the company) may watch it."""
        stmt = select(Connection).where(
            Connection.platform == platform, Connection.external_id.in_(list(external_ids))
        )
        return builtins.list((await self.session.scalars(stmt)).all())

    async def due_for_poll(
        self, due_before: dt.datetime
    ) -> builtins.list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant id, connection id) of active connections with a token, not polled since
        ``due_before``. Crosses tenants: needs a system unit of work."""
        stmt = select(Connection.tenant_id, Connection.id).where(
            Connection.status == ConnectionStatus.ACTIVE,
            Connection.token_ciphertext.is_not(None),
            (Connection.last_polled_at.is_(None)) | (Connection.last_polled_at < due_before),
        )
        return [(t, c) for t, c in (await self.session.execute(stmt)).all()]

    async def touch_events(
        self,
        tenant_id: TenantId,
        connection_ids: Collection[uuid.UUID],
        at: dt.datetime,
        *,
        resolution: dt.timedelta = dt.timedelta(seconds=10),
    ) -> None:
        """Webhook events arrived for these connections at ``at``. Written at most once per
        ``resolution``: every webhook of a busy page writing the same row would queue them all
        behind its row lock, for a time nobody needs finer than that."""
        await self.session.execute(
            update(Connection)
            .where(
                Connection.tenant_id == tenant_id,
                Connection.id.in_(set(connection_ids)),
                or_(Connection.last_event_at.is_(None), Connection.last_event_at < at - resolution),
            )
            .values(last_event_at=at)
        )

    def add(self, connection: Connection) -> None:
        self.session.add(connection)

    async def delete(self, connection: Connection) -> None:
        await self.session.delete(connection)


class OAuthStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, tenant_id: TenantId, nonce: str, expires_at: dt.datetime) -> bool:
        """Records a state's use; False when it was used before. The tenant's expired uses go
        at the same time (a state past its expiry is refused by its signature check anyway)."""
        await self.session.execute(
            delete(OAuthStateUse).where(
                OAuthStateUse.tenant_id == tenant_id, OAuthStateUse.expires_at < utcnow()
            )
        )
        stmt = (
            insert(OAuthStateUse)
            .values(tenant_id=tenant_id, nonce=nonce, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["tenant_id", "nonce"])
            .returning(OAuthStateUse.nonce)
        )
        return (await self.session.execute(stmt)).first() is not None


def watching_statement(
    tenant_id: TenantId, connection_ids: Collection[uuid.UUID]
) -> Select[uuid.UUID]:
    """The ids of ``connection_ids`` that still exist and are not revoked."""
    return select(Connection.id).where(
        Connection.tenant_id == tenant_id,
        Connection.id.in_(set(connection_ids)),
        Connection.status != ConnectionStatus.REVOKED,
    )
