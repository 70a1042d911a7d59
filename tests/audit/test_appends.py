"""Appending to the chain: events are chained at the commit of the unit of work that recorded
them, roll back with it (and with a savepoint), and concurrent units of work never fork it."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.audit.service import record, verify
from service.auth.types import TenantId
from service.db import Database, UnitOfWork
from service.queue import Job, JobName
from tests.conftest import MakeTenant


def note(uow: UnitOfWork, tenant_id: TenantId, name: str) -> AuditEvent:
    return record(
        uow, tenant_id, actor="system:test", action="test.note", subject_type="w", subject_id=name
    )


async def subjects(db: Database, tenant_id: TenantId) -> list[str]:
    """The notes of this test, in chain order (a new tenant's trail starts with its onboarding)."""
    async with db.unit_of_work(tenant_id) as uow:
        rows = await uow.session.scalars(
            select(AuditEvent.subject_id)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.action == "test.note")
            .order_by(AuditEvent.seq)
        )
        return list(rows.all())


async def onboarding_events(db: Database, tenant_id: TenantId) -> int:
    async with db.unit_of_work(tenant_id) as uow:
        rows = await uow.session.scalars(select(AuditEvent.id))
        return len(rows.all())


async def test_events_are_chained_at_the_commit_in_the_order_recorded(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    base = await onboarding_events(db, tenant.tenant_id)
    async with db.unit_of_work(tenant.tenant_id) as uow:
        events = [note(uow, tenant.tenant_id, f"n{i}") for i in range(250)]
        # Nothing is written, nor any lock taken, before the commit.
        assert len((await uow.session.scalars(select(AuditEvent.id))).all()) == base
    assert [e.seq for e in events] == list(range(base + 1, base + 251))
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
    assert await subjects(db, tenant.tenant_id) == [f"n{i}" for i in range(250)]
    async with db.unit_of_work(tenant.tenant_id) as uow:
        report = await verify(uow, tenant.tenant_id)
    assert report.valid and report.events == base + 250


async def test_a_rolled_back_unit_of_work_or_savepoint_leaves_no_event(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()

    async def failing_unit() -> None:
        async with db.unit_of_work(tenant.tenant_id) as uow:
            note(uow, tenant.tenant_id, "lost")
            raise RuntimeError("the change failed")

    async def failing_savepoint(uow: UnitOfWork) -> None:
        async with uow.savepoint():
            note(uow, tenant.tenant_id, "inside")
            uow.jobs.add(Job(JobName.CHECK_DATABASE))
            raise ValueError("one comment failed")

    with pytest.raises(RuntimeError):
        await failing_unit()
    async with db.unit_of_work(tenant.tenant_id) as uow:
        note(uow, tenant.tenant_id, "before")
        with pytest.raises(ValueError, match="one comment"):
            await failing_savepoint(uow)
        assert len(uow.jobs) == 0  # the job went with the savepoint
        async with uow.savepoint():
            note(uow, tenant.tenant_id, "kept")
        note(uow, tenant.tenant_id, "after")
    assert await subjects(db, tenant.tenant_id) == ["before", "kept", "after"]
    async with db.unit_of_work(tenant.tenant_id) as uow:
        assert (await verify(uow, tenant.tenant_id)).valid


async def test_concurrent_units_of_work_append_one_unforked_chain(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    base = await onboarding_events(db, tenant.tenant_id)

    async def writer(w: int) -> None:
        for batch in range(5):
            async with db.unit_of_work(tenant.tenant_id) as uow:
                for i in range(10):
                    note(uow, tenant.tenant_id, f"w{w}b{batch}i{i}")
                await asyncio.sleep(0)  # let the others interleave inside their transactions

    await asyncio.gather(*(writer(w) for w in range(4)))
    written = await subjects(db, tenant.tenant_id)
    assert sorted(written) == sorted(
        f"w{w}b{b}i{i}" for w in range(4) for b in range(5) for i in range(10)
    )
    # A unit of work's events stay together: appended in one go, under the head's lock.
    for start in range(0, len(written), 10):
        assert len({s.split("i")[0] for s in written[start : start + 10]}) == 1
    async with db.unit_of_work(tenant.tenant_id) as uow:
        report = await verify(uow, tenant.tenant_id)
    assert report.valid and report.events == base + 200
