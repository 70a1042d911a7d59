"""Reading the audit trail (appending and verifying are in service.audit.service)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit import schemas
from service.audit.models import AuditEvent
from service.audit.service import verify
from service.auth.types import Principal, TenantId
from service.db import UnitOfWork, utcnow
from service.errors import Forbidden, InvalidCursor

# Audit cursors carry a chain position, not an id: seq is the chain's own total order.
_CURSOR_PREFIX = "a1:"


def encode_seq_cursor(seq: int, order: schemas.AuditOrder) -> str:
    raw = f"{_CURSOR_PREFIX}{order.value}:{seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_seq_cursor(cursor: str, order: schemas.AuditOrder) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        prefix, cursor_order, seq = raw.split(":")
        if prefix + ":" != _CURSOR_PREFIX or cursor_order != order.value:
            raise ValueError("cursor")
        return int(seq)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(
            "The cursor is not one this API issued for this order; start again without it."
        ) from None


class AuditFilters:
    def __init__(
        self,
        *,
        action: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> None:
        self.action = action
        self.subject_type = subject_type
        self.subject_id = subject_id
        self.since = since
        self.until = until


class AuditEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(
        self,
        tenant_id: TenantId,
        filters: AuditFilters,
        *,
        order: schemas.AuditOrder,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[AuditEvent], str | None]:
        stmt = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
        if filters.action is not None:
            stmt = stmt.where(AuditEvent.action == filters.action)
        if filters.subject_type is not None:
            stmt = stmt.where(AuditEvent.subject_type == filters.subject_type)
        if filters.subject_id is not None:
            stmt = stmt.where(AuditEvent.subject_id == filters.subject_id)
        if filters.since is not None:
            stmt = stmt.where(AuditEvent.occurred_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(AuditEvent.occurred_at < filters.until)
        newest_first = order is schemas.AuditOrder.NEWEST_FIRST
        if cursor:
            after = decode_seq_cursor(cursor, order)
            stmt = stmt.where(AuditEvent.seq < after if newest_first else AuditEvent.seq > after)
        stmt = stmt.order_by(AuditEvent.seq.desc() if newest_first else AuditEvent.seq.asc())
        rows: Sequence[AuditEvent] = (await self.session.scalars(stmt.limit(limit + 1))).all()
        items = list(rows[:limit])
        next_cursor = (
            encode_seq_cursor(items[-1].seq, order) if len(rows) > limit and items else None
        )
        return items, next_cursor


def _tenant_wide(principal: Principal) -> None:
    # The trail is the tenant's, across clients: a key restricted to one client may not read it.
    if principal.client_id is not None:
        raise Forbidden("This API key is restricted to one client and cannot read the audit trail.")


def to_event_schema(event: AuditEvent) -> schemas.AuditEvent:
    return schemas.AuditEvent(
        id=event.id,
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        data=event.data,
        prev_hash=event.prev_hash.hex(),
        hash=event.hash.hex(),
    )


class AuditTrailService:
    """What the API offers on the trail: listing it and verifying its chain."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.events = AuditEventRepository(uow.session)

    async def list(
        self,
        principal: Principal,
        filters: AuditFilters,
        *,
        order: schemas.AuditOrder,
        cursor: str | None,
        limit: int,
    ) -> schemas.AuditEventList:
        _tenant_wide(principal)
        rows, next_cursor = await self.events.list(
            principal.tenant_id, filters, order=order, cursor=cursor, limit=limit
        )
        return schemas.AuditEventList(
            items=[to_event_schema(e) for e in rows], next_cursor=next_cursor
        )

    async def verify(self, principal: Principal) -> schemas.AuditChainReport:
        _tenant_wide(principal)
        return await verify_tenant(self.uow, principal.tenant_id)


async def verify_tenant(uow: UnitOfWork, tenant_id: TenantId) -> schemas.AuditChainReport:
    report = await verify(uow, tenant_id)
    return schemas.AuditChainReport(
        valid=report.valid,
        events=report.events,
        first_seq=report.first_seq,
        last_seq=report.last_seq,
        broken_at_seq=report.broken_at_seq,
        reason=report.reason,
        anchor_seq=report.anchor_seq,
        checked_at=utcnow(),
    )
