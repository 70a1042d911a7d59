from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.pagination import page_of, paginate
from service.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


class EndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, tenant_id: TenantId, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> WebhookEndpoint | None:
        if not lock:
            return await self.session.get(WebhookEndpoint, (tenant_id, endpoint_id))
        stmt = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(
        self, tenant_id: TenantId, *, client_id: uuid.UUID | None, cursor: str | None, limit: int
    ) -> tuple[list[WebhookEndpoint], str | None]:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id)
        if client_id is not None:
            stmt = stmt.where(WebhookEndpoint.client_id == client_id)
        rows = (await self.session.scalars(paginate(stmt, WebhookEndpoint.id, cursor, limit))).all()
        return page_of(rows, limit, lambda e: e.id)

    async def fan_out_targets(
        self, tenant_id: TenantId
    ) -> Sequence[Row[uuid.UUID, uuid.UUID | None, builtins.list[str]]]:
        """The enabled endpoints an event may go to: (id, client_id, event_types)."""
        stmt = select(
            WebhookEndpoint.id, WebhookEndpoint.client_id, WebhookEndpoint.event_types
        ).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.enabled.is_(True))
        return (await self.session.execute(stmt)).all()

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        await self.session.delete(endpoint)

    async def clear_failing(self, tenant_id: TenantId, endpoint_id: uuid.UUID) -> None:
        await self.session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.tenant_id == tenant_id,
                WebhookEndpoint.id == endpoint_id,
                WebhookEndpoint.failing_since.is_not(None),
            )
            .values(failing_since=None)
        )

    async def mark_failing(
        self, tenant_id: TenantId, endpoint_id: uuid.UUID, since: dt.datetime
    ) -> dt.datetime | None:
        """Start the failure streak unless one runs; returns when it started."""
        stmt = (
            update(WebhookEndpoint)
            .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
            .values(failing_since=func.coalesce(WebhookEndpoint.failing_since, since))
            .returning(WebhookEndpoint.failing_since)
        )
        started: dt.datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return started

    async def all_secrets(self) -> Sequence[WebhookEndpoint]:
        """Every endpoint (system work: key rotation)."""
        return (await self.session.scalars(select(WebhookEndpoint).with_for_update())).all()


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(WebhookEvent), rows)

    async def bodies(
        self, tenant_id: TenantId, event_ids: builtins.list[uuid.UUID]
    ) -> dict[uuid.UUID, bytes]:
        stmt = select(WebhookEvent.id, WebhookEvent.body).where(
            WebhookEvent.tenant_id == tenant_id, WebhookEvent.id.in_(event_ids)
        )
        return {row.id: row.body for row in (await self.session.execute(stmt)).all()}

    async def body(self, tenant_id: TenantId, event_id: uuid.UUID) -> bytes | None:
        stmt = select(WebhookEvent.body).where(
            WebhookEvent.tenant_id == tenant_id, WebhookEvent.id == event_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(WebhookDelivery), rows)

    async def get(
        self, tenant_id: TenantId, delivery_id: uuid.UUID, *, lock: bool = False
    ) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.id == delivery_id
        )
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def list(
        self,
        tenant_id: TenantId,
        *,
        client_id: uuid.UUID | None,
        endpoint_id: uuid.UUID | None,
        event_type: str | None,
        status: DeliveryStatus | None,
        since: dt.datetime | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[WebhookDelivery], str | None]:
        stmt = select(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant_id)
        if client_id is not None:
            # A client-restricted key sees deliveries to its client's endpoints only.
            stmt = stmt.where(
                WebhookDelivery.endpoint_id.in_(
                    select(WebhookEndpoint.id).where(
                        WebhookEndpoint.tenant_id == tenant_id,
                        WebhookEndpoint.client_id == client_id,
                    )
                )
            )
        if endpoint_id is not None:
            stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
        if event_type is not None:
            stmt = stmt.where(WebhookDelivery.event_type == event_type)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        if since is not None:
            stmt = stmt.where(WebhookDelivery.created_at >= since)
        rows = (await self.session.scalars(paginate(stmt, WebhookDelivery.id, cursor, limit))).all()
        return page_of(rows, limit, lambda d: d.id)

    async def attempts(
        self, tenant_id: TenantId, delivery_id: uuid.UUID
    ) -> builtins.list[WebhookAttempt]:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.tenant_id == tenant_id, WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def claim_due(
        self,
        tenant_id: TenantId,
        endpoint_id: uuid.UUID,
        now: dt.datetime,
        lease: dt.timedelta,
        *,
        limit: int,
        only: uuid.UUID | None = None,
    ) -> Sequence[Row[uuid.UUID, uuid.UUID, int, int]]:
        """Lease up to ``limit`` of the endpoint's due pending deliveries, oldest due first:
        (id, event_id, attempts, round_attempts). Rows another worker holds (a lease, or a row
        lock right now) are skipped, never waited for."""
        due = (
            select(WebhookDelivery.tenant_id, WebhookDelivery.id)
            .where(
                WebhookDelivery.tenant_id == tenant_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if only is not None:
            due = due.where(WebhookDelivery.id == only)
        stmt = (
            update(WebhookDelivery)
            .where(tuple_(WebhookDelivery.tenant_id, WebhookDelivery.id).in_(due))
            .values(lease_until=now + lease)
            .returning(
                WebhookDelivery.id,
                WebhookDelivery.event_id,
                WebhookDelivery.attempts,
                WebhookDelivery.round_attempts,
            )
        )
        return (await self.session.execute(stmt)).all()

    async def insert_attempts(self, rows: builtins.list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(WebhookAttempt), rows)

    async def update_many(self, rows: builtins.list[dict[str, Any]]) -> None:
        """Each row's new state by primary key (tenant_id, id), in one executemany."""
        if rows:
            await self.session.execute(update(WebhookDelivery), rows)

    async def overdue_endpoints(
        self, due_before: dt.datetime, now: dt.datetime, limit: int
    ) -> Sequence[Row[uuid.UUID, uuid.UUID]]:
        """System-wide: (tenant_id, endpoint_id) with a pending delivery due before
        ``due_before`` that no worker holds."""
        stmt = (
            select(WebhookDelivery.tenant_id, WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at < due_before,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .group_by(WebhookDelivery.tenant_id, WebhookDelivery.endpoint_id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).all()

    async def replay_failed(
        self, tenant_id: TenantId, endpoint_id: uuid.UUID, since: dt.datetime, now: dt.datetime
    ) -> Sequence[Row[uuid.UUID, int]]:
        """Failed deliveries to the endpoint since ``since``, pending again: (id, attempts)."""
        stmt = (
            update(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == tenant_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == DeliveryStatus.FAILED,
                WebhookDelivery.created_at >= since,
            )
            .values(
                status=DeliveryStatus.PENDING,
                round_attempts=0,
                next_attempt_at=now,
                lease_until=None,
                updated_at=now,
            )
            .returning(WebhookDelivery.id, WebhookDelivery.attempts)
        )
        return (await self.session.execute(stmt)).all()

    async def fail_pending_of(
        self, tenant_id: TenantId, endpoint_id: uuid.UUID, reason: str
    ) -> int:
        """Pending deliveries to a disabled endpoint fail now (replayable once re-enabled)."""
        stmt = (
            update(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == tenant_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                or_(
                    WebhookDelivery.lease_until.is_(None),
                    WebhookDelivery.lease_until < func.now(),
                ),
            )
            .values(status=DeliveryStatus.FAILED, last_error=reason, lease_until=None)
        )
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def oldest_due(self, now: dt.datetime) -> dt.datetime | None:
        stmt = select(func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        value: dt.datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return value
