"""Appending to and verifying the per-tenant hash chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any, cast

import msgspec
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.models import AuditEvent, AuditHead
from service.auth.types import TenantId
from service.db import UnitOfWork, utcnow
from service.ids import new_id

GENESIS = b"\x00" * 32


def _canonical(event: AuditEvent) -> bytes:
    # Everything that matters about the event, in a fixed order: any change alters the hash.
    return msgspec.json.encode(
        {
            "tenant_id": str(event.tenant_id),
            "id": str(event.id),
            "seq": event.seq,
            "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
            "actor": event.actor,
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "data": event.data,
        },
        order="sorted",
    )


def chain_hash(prev_hash: bytes, event: AuditEvent) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(event)).digest()


_EVENTS = cast(Table, AuditEvent.__table__)
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id)


class _Appends:
    """A unit of work's audit events, appended to the chain in one go just before it commits.

    The chain head's row lock serialises appends per tenant; taken at the end, it is held for
    the commit alone instead of the whole transaction (a backfill page, a batch of hides), and
    however many events the transaction recorded cost one insert."""

    def __init__(self, tenant_id: TenantId) -> None:
        self.tenant_id = tenant_id
        self.events: list[AuditEvent] = []

    def mark(self) -> int:
        return len(self.events)

    def rollback_to(self, mark: int) -> None:
        del self.events[mark:]

    async def flush(self, session: AsyncSession) -> None:
        if not self.events:
            return
        events, self.events = self.events, []
        tenant_id = self.tenant_id
        # Lock the head: appends within one tenant are serialised. The tenant's first append
        # creates it (once; a concurrent first append waits on the insert, then locks).
        lock_head = (
            select(AuditHead.seq, AuditHead.hash)
            .where(AuditHead.tenant_id == tenant_id)
            .with_for_update()
        )
        head = (await session.execute(lock_head)).one_or_none()
        if head is None:
            await session.execute(
                insert(AuditHead)
                .values(tenant_id=tenant_id, seq=0, hash=GENESIS)
                .on_conflict_do_nothing(index_elements=["tenant_id"])
            )
            head = (await session.execute(lock_head)).one()
        seq, prev = head
        rows: list[dict[str, Any]] = []
        for event in events:
            seq += 1
            event.seq = seq
            event.prev_hash = prev
            event.hash = prev = chain_hash(prev, event)
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "id": event.id,
                    "seq": seq,
                    "occurred_at": event.occurred_at,
                    "actor": event.actor,
                    "action": event.action,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "data": event.data,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                }
            )
        # RETURNING: one multi-row INSERT (insertmanyvalues), not one INSERT per event.
        await session.execute(_INSERT_EVENTS, rows)
        await session.execute(
            update(AuditHead).where(AuditHead.tenant_id == tenant_id).values(seq=seq, hash=prev)
        )


def record(
    uow: UnitOfWork,
    tenant_id: TenantId,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record an event in the caller's unit of work: it is chained and inserted when that
    commits, and rolls back with the change it describes. ``data`` must never hold personal
    data: ids, statuses, masked forms only. The returned event gets its seq and hashes at the
    commit."""
    appends = uow.staged(f"audit:{tenant_id}", lambda: _Appends(tenant_id))
    event = AuditEvent(
        tenant_id=tenant_id,
        id=new_id(),
        occurred_at=utcnow().replace(microsecond=0),
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=data or {},
    )
    appends.events.append(event)
    return event


class ChainReport(msgspec.Struct, kw_only=True):
    valid: bool
    events: int
    first_seq: int | None
    last_seq: int | None
    # The first event whose hash or link does not match, when the chain is broken.
    broken_at_seq: int | None = None
    reason: str | None = None
    # The chain is verified from here: 0 (genesis) until retention removed the oldest events.
    anchor_seq: int = 0


async def verify(uow: UnitOfWork, tenant_id: TenantId, batch: int = 5000) -> ChainReport:
    """Walk the chain in order from its anchor: the genesis (seq 0) until retention removed the
    oldest events, then the last removed event's seq and hash, kept in the chain head. The first
    retained event must follow the anchor, so removing events at the start is caught like
    removing them anywhere else; only the purge function moves the anchor."""
    session = uow.session
    head = await session.get(AuditHead, tenant_id)
    anchor_seq = head.anchor_seq if head is not None else 0
    prev: bytes = head.anchor_hash if head is not None else GENESIS
    expected_seq = anchor_seq + 1
    count = 0
    first: int | None = None
    last: int | None = None
    after = 0

    def broken(seq: int | None, reason: str) -> ChainReport:
        return ChainReport(
            valid=False,
            events=count,
            first_seq=first,
            last_seq=last,
            broken_at_seq=seq,
            reason=reason,
            anchor_seq=anchor_seq,
        )

    while True:
        rows = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant_id, AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
        ).all()
        if not rows:
            break
        for event in rows:
            if first is None:
                first = event.seq
            if event.seq != expected_seq:
                return broken(event.seq, "a sequence number is missing")
            if event.prev_hash != prev:
                return broken(event.seq, "the link to the previous event is broken")
            if chain_hash(event.prev_hash, event) != event.hash:
                return broken(event.seq, "the event was changed")
            prev, expected_seq, last = event.hash, event.seq + 1, event.seq
            count += 1
        after = rows[-1].seq
    head_seq = head.seq if head is not None else 0
    head_hash = head.hash if head is not None else GENESIS
    if head_seq != expected_seq - 1 or head_hash != prev:
        return broken(last, "events after the last one were removed")
    return ChainReport(
        valid=True, events=count, first_seq=first, last_seq=last, anchor_seq=anchor_seq
    )
