"""The retention and erasure jobs as the worker registers and schedules them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus
from sqlalchemy import select, update

from service import queue as queue_jobs
from service.crypto import Cipher
from service.db import Database
from service.erasure.models import ErasureRequest, ErasureStatus
from service.findings.models import Finding
from service.pipeline.context import PipelineContext
from service.queue import Queue
from service.settings import Settings
from service.tenancy.models import Tenant
from service.workers import jobs
from service.workers.jobs import (
    CONTEXT_KEY,
    purge_retention,
    reconcile_erasures,
    reconcile_tenant_deletions,
    schedule_retention,
)
from tests.conftest import MakeTenant
from tests.retention.support import add_page, add_records


@pytest.fixture
async def own_queue(settings: Settings) -> AsyncIterator[Queue]:
    """A queue of this module's own: the jobs these tests leave queued reach no worker of
    another test (which would count them)."""
    q = await Queue.connect(settings.redis_url, f"wallguard:test:{uuid.uuid4().hex}")
    yield q
    await q.redis.delete(q.queue_name)
    await q.close()


@pytest.fixture
async def pctx(
    settings: Settings, db: Database, own_queue: Queue
) -> AsyncIterator[PipelineContext]:
    context = PipelineContext.create(settings, db, own_queue)
    yield context
    await context.close()


def _ctx(pctx: PipelineContext) -> dict[str, Any]:
    return {CONTEXT_KEY: pctx, "job_try": 1}


async def _status(queue: Queue, job_id: str) -> JobStatus:
    return await ArqJob(job_id, queue.redis, _queue_name=queue.queue_name).status()


def test_the_worker_runs_them() -> None:
    names = {f.name for f in jobs.FUNCTIONS}
    assert {"purge_retention", "erase_subject", "delete_tenant"} <= names
    crons = {c.name for c in jobs.CRON_JOBS}
    assert {"schedule_retention", "reconcile_erasures", "reconcile_tenant_deletions"} <= crons


async def test_the_cron_sends_one_purge_per_tenant_and_the_job_purges(
    db: Database,
    own_queue: Queue,
    pctx: PipelineContext,
    settings: Settings,
    make_tenant: MakeTenant,
) -> None:
    queue = own_queue
    tenant = await make_tenant()
    page = await add_page(db, tenant.tenant_id)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    await add_records(db, Cipher(settings.encryption_keys), page, count=2, at=old)
    assert await schedule_retention(_ctx(pctx)) >= 1
    assert (
        await _status(queue, queue_jobs.purge_retention(tenant.tenant_id).job_id or "")
        is JobStatus.queued
    )
    # Sent again while queued: arq keeps one.
    await schedule_retention(_ctx(pctx))
    counts = await purge_retention(_ctx(pctx), str(tenant.tenant_id))
    assert counts["findings"] == 2
    async with db.unit_of_work(tenant.tenant_id) as uow:
        assert (await uow.session.scalars(select(Finding))).all() == []


async def test_lost_erasures_and_deletions_are_sent_again(
    db: Database, own_queue: Queue, pctx: PipelineContext, make_tenant: MakeTenant
) -> None:
    queue = own_queue
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
    assert await reconcile_erasures(_ctx(pctx)) >= 1
    assert await reconcile_erasures(_ctx(pctx)) == 0  # not again until stale once more
    assert await reconcile_tenant_deletions(_ctx(pctx)) >= 1
    assert await _status(queue, f"delete-tenant:{tenant.tenant_id}") is JobStatus.queued
    # A tenant being deleted is not purged on the side.
    await schedule_retention(_ctx(pctx))
    assert (
        await _status(queue, queue_jobs.purge_retention(tenant.tenant_id).job_id or "")
        is JobStatus.not_found
    )
