"""Retention and erasure jobs.

``schedule_retention`` (cron, hourly) sends one ``purge_retention`` job per tenant; each purges
within a time budget and the next hour continues what is left (the purge keeps no state, see
service.retention.purge). ``erase_subject`` carries out one erasure request;
``reconcile_erasures`` (cron) re-sends requests whose job was lost. ``delete_tenant`` removes a
deleted tenant's data (service.tenancy.deletion).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import structlog
from arq.cron import CronJob, cron
from arq.worker import Function, Retry, func
from sqlalchemy import select

from service.auth.types import TenantId
from service.db import Database, utcnow
from service.erasure.repository import ErasureRequestRepository
from service.erasure.service import ERASE_SUBJECT_JOB, erase_job_id, fail_erasure, run_erasure
from service.queue import Job, Queue
from service.retention.purge import purge_tenant
from service.tenancy.deletion import DELETE_TENANT_JOB, delete_tenant_data, delete_tenant_job_id
from service.tenancy.models import Tenant
from service.workers.pipeline_context import pipeline_of

log = structlog.get_logger(__name__)

PURGE_RETENTION_JOB = "purge_retention"
# A purge job stops after this long; the next run continues (a 1,000,000-finding backlog takes
# a few runs at most, see bench/README.md).
PURGE_BUDGET_SECONDS = 240.0
ERASE_MAX_TRIES = 5
STALE_ERASURE = dt.timedelta(minutes=10)


def purge_job_id(tenant_id: uuid.UUID) -> str:
    return f"retention:{tenant_id}"


async def schedule_retention(ctx: dict[str, Any]) -> int:
    """Cron: one purge job per tenant (not for tenants being deleted: that job does it all)."""
    db: Database = ctx["db"]
    queue: Queue = ctx["queue"]
    async with db.system_unit_of_work() as uow:
        tenant_ids = list(
            await uow.session.scalars(select(Tenant.id).where(Tenant.deleting_at.is_(None)))
        )
    for tenant_id in tenant_ids:
        await queue.resend(Job(PURGE_RETENTION_JOB, (str(tenant_id),), purge_job_id(tenant_id)))
    return len(tenant_ids)


async def purge_retention(ctx: dict[str, Any], tenant_id: str) -> dict[str, int]:
    db: Database = ctx["db"]
    result = await purge_tenant(
        db, TenantId(uuid.UUID(tenant_id)), budget_seconds=PURGE_BUDGET_SECONDS
    )
    return result.counts


async def erase_subject(ctx: dict[str, Any], tenant_id: str, request_id: str) -> str | None:
    pctx = pipeline_of(ctx)
    tid, rid = TenantId(uuid.UUID(tenant_id)), uuid.UUID(request_id)
    try:
        status = await run_erasure(pctx.db, pctx.settings, pctx.cipher, pctx.graph, tid, rid)
    except Exception as exc:
        tries = int(ctx.get("job_try") or 1)
        log.warning("erasure_failed", request_id=request_id, error=type(exc).__name__)
        if tries >= ERASE_MAX_TRIES:
            await fail_erasure(pctx.db, tid, rid, type(exc).__name__)
            return "failed"
        raise Retry(defer=min(2**tries, 60)) from None
    return status.value if status is not None else None


async def reconcile_erasures(ctx: dict[str, Any]) -> int:
    """Cron: re-send erasure requests left pending or running (a lost job, a killed worker)."""
    db: Database = ctx["db"]
    queue: Queue = ctx["queue"]
    now = utcnow()
    async with db.system_unit_of_work() as uow:
        stale = await ErasureRequestRepository(uow.session).open_and_stale(
            now - STALE_ERASURE, limit=100
        )
        for request in stale:
            request.updated_at = now  # not again until it is stale once more
        jobs = [
            Job(
                ERASE_SUBJECT_JOB,
                (str(r.tenant_id), str(r.id)),
                erase_job_id(r.id, f"r{int(now.timestamp())}"),
            )
            for r in stale
        ]
    for job in jobs:
        await queue.resend(job)
    return len(jobs)


async def reconcile_tenant_deletions(ctx: dict[str, Any]) -> int:
    """Cron: re-send the deletion job of tenants still being deleted after a while (the job was
    lost with Redis, or a worker died in it; deleting again is harmless)."""
    db: Database = ctx["db"]
    queue: Queue = ctx["queue"]
    async with db.system_unit_of_work() as uow:
        tenant_ids = list(
            await uow.session.scalars(
                select(Tenant.id).where(Tenant.deleting_at < utcnow() - STALE_ERASURE)
            )
        )
    for tenant_id in tenant_ids:
        await queue.resend(
            Job(DELETE_TENANT_JOB, (str(tenant_id),), delete_tenant_job_id(tenant_id))
        )
    return len(tenant_ids)


async def delete_tenant(ctx: dict[str, Any], tenant_id: str) -> dict[str, int]:
    db: Database = ctx["db"]
    return await delete_tenant_data(db, TenantId(uuid.UUID(tenant_id)))


FUNCTIONS: list[Function] = [
    func(purge_retention, name=PURGE_RETENTION_JOB, timeout=PURGE_BUDGET_SECONDS + 60, max_tries=1),
    func(erase_subject, name=ERASE_SUBJECT_JOB, timeout=600, max_tries=ERASE_MAX_TRIES),
    func(delete_tenant, name=DELETE_TENANT_JOB, timeout=3600, max_tries=3),
]
CRON_JOBS: list[CronJob] = [
    cron(schedule_retention, name="schedule_retention", minute=17, second=0, timeout=60),
    cron(reconcile_erasures, name="reconcile_erasures", second=30, timeout=60),
    cron(
        reconcile_tenant_deletions,
        name="reconcile_tenant_deletions",
        minute=set(range(5, 60, 10)),
        second=15,
        timeout=60,
    ),
]
