"""Recovery: work left pending is sent again.

Redis only carries messages; the rows are the record. ``reconcile_once`` (the ``reconcile`` cron,
every ``RECONCILE_EVERY_SECONDS``) looks at the inbox events and moderation actions still
``pending`` after ``stale_after_seconds`` that no transaction holds (``FOR UPDATE SKIP LOCKED``: a
worker working on a row holds its lock, and Postgres releases a killed worker's with its
connection), and asks the queue about each one's job:

- queued or deferred (a backlog, a retry waiting for the platform): left alone;
- unknown to Redis (Redis restarted empty, an enqueue failed): sent again;
- started by a worker more than ``lease_seconds`` ago, yet its row is free: that worker is gone
  (SIGKILL, OOM, a lost machine), so arq's claim on the job is released and the job, still in
  the queue, runs again on the next worker that polls, seconds later instead of when arq's claim
  would expire.

Sending twice is harmless: every step re-checks its row, and an action re-reads the platform
before acting again. Only for active connections: a page waiting for re-authorisation keeps its
backlog until it is reconnected. Scans have their own (service/pipeline/scans.py,
``reconcile_scans``).
"""

from __future__ import annotations

import datetime as dt

import structlog

from service import queue as jobs
from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.db import utcnow
from service.inbox.repository import InboxRepository
from service.moderation.repository import ActionRepository
from service.pipeline.context import PipelineContext

log = structlog.get_logger(__name__)

# How often the cron runs: with the lease, what bounds the recovery after a killed worker.
RECONCILE_EVERY_SECONDS = 5


async def reconcile_once(pctx: PipelineContext, *, tenant_id: TenantId | None = None) -> int:
    """One reconcile pass over every tenant (or one, for tests); returns how many jobs were
    sent."""
    older_than = utcnow() - dt.timedelta(seconds=pctx.config.stale_after_seconds)
    limit = pctx.config.reconcile_batch
    async with pctx.db.system_unit_of_work() as uow:
        events = await InboxRepository(uow.session).stale_pending(
            older_than, limit, tenant_id=tenant_id
        )
        actions = await ActionRepository(uow.session).stale_pending(
            older_than, limit, tenant_id=tenant_id
        )
    sent = 0
    lease = pctx.config.lease_seconds
    for tenant, event_id in events:
        sent += await pctx.queue.resend(
            jobs.process_inbox_event(system_tenant(tenant), event_id), claimed_longer_than=lease
        )
    for tenant, action_id in actions:
        sent += await pctx.queue.resend(
            jobs.execute_action(system_tenant(tenant), action_id), claimed_longer_than=lease
        )
    if sent:
        log.info("reconcile_resent", events=len(events), actions=len(actions), sent=sent)
    return sent
