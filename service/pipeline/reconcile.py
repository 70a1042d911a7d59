"""Recovery: work left pending is sent again.

Redis only carries messages; the rows are the record. An inbox event or a moderation action still
``pending`` after ``stale_after_seconds`` lost its job (Redis restarted, a worker died, an enqueue
failed): ``reconcile_once`` (the ``reconcile`` cron) sends it again. Only for active connections:
a page waiting for re-authorisation keeps its backlog until it is reconnected. Scans have their
own (service/pipeline/scans.py, ``reconcile_scans``).
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
    for tenant, event_id in events:
        sent += await pctx.queue.resend(jobs.process_inbox_event(system_tenant(tenant), event_id))
    for tenant, action_id in actions:
        sent += await pctx.queue.resend(jobs.execute_action(system_tenant(tenant), action_id))
    if sent:
        log.info("reconcile_resent", events=len(events), actions=len(actions), sent=sent)
    return sent
