"""The retention and erasure jobs as the worker registers and schedules them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus
from sqlalchemy import select, update

from service.crypto import Cipher
from service.db import Database
from service.erasure.models import ErasureRequest, ErasureStatus
from service.findings.models import Finding
from service.queue import Queue
from service.settings import Settings
from service.tenancy.models import Tenant
from service.workers import jobs
from service.workers.retention import (
    purge_job_id,
    purge_retention,
    reconcile_erasures,
    reconcile_tenant_deletions,
    schedule_retention,
)
from tests.conftest import MakeTenant
from tests.retention.support import add_page, add_records


def _ctx(db: Database, queue: Queue) -> dict[str, Any]:
    return {"db": db, "queue": queue}


async def _status(queue: Queue, job_id: str) -> JobStatus:
    return await ArqJob(job_id, queue.redis, _queue_name=queue.queue_name).status()


def test_the_worker_runs_them() -> None:
    names = {f.name for f in jobs.FUNCTIONS}
    assert {"purge_retention", "erase_subject", "delete_tenant"} <= names
    crons = {c.name for c in jobs.CRON_JOBS}
    assert {"schedule_retention", "reconcile_erasures", "reconcile_tenant_deletions"} <= crons


async def test_the_cron_sends_one_purge_per_tenant_and_the_job_purges(
    db: Database, queue: Queue, settings: Settings, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    page = await add_page(db, tenant.tenant_id)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    await add_records(db, Cipher(settings.encryption_keys), page, count=2, at=old)
    assert await schedule_retention(_ctx(db, queue)) >= 1
    assert await _status(queue, purge_job_id(tenant.tenant_id)) is JobStatus.queued
    # Sent again while queued: arq keeps one.
    await schedule_retention(_ctx(db, queue))
    counts = await purge_retention(_ctx(db, queue), str(tenant.tenant_id))
    assert counts["findings"] == 2
    async with db.unit_of_work(tenant.tenant_id) as uow:
        assert (await uow.session.scalars(select(Finding))).all() == []


async def test_lost_erasures_and_deletions_are_sent_again(
    db: Database, queue: Queue, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    async with db.unit_of_work(tenant.tenant_id) as uow:
        request = ErasureRequest(
            tenant_id=tenant.tenant_id,
            platform="facebook",
            author_ref="ab" * 32,
            delete_on_platform=False,
            status=ErasureStatus.PENDING,
            counts={},
            attempts=0,
            requested_by="test",
        )
        uow.session.add(request)
        await uow.session.flush()
        await uow.session.execute(
            update(ErasureRequest)
            .where(ErasureRequest.id == request.id)
            .values(updated_at=long_ago)
        )
        await uow.session.execute(
            update(Tenant).where(Tenant.id == tenant.tenant_id).values(deleting_at=long_ago)
        )
    assert await reconcile_erasures(_ctx(db, queue)) >= 1
    assert await reconcile_erasures(_ctx(db, queue)) == 0  # not again until stale once more
    assert await reconcile_tenant_deletions(_ctx(db, queue)) >= 1
    assert await _status(queue, f"delete-tenant:{tenant.tenant_id}") is JobStatus.queued
    # A tenant being deleted is not purged on the side.
    await schedule_retention(_ctx(db, queue))
    assert await _status(queue, purge_job_id(tenant.tenant_id)) is JobStatus.not_found
