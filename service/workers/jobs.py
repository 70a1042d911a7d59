"""The worker's job entry points: each takes ids, runs one pipeline step and turns its outcome
into arq's vocabulary (a result, or a retry after a delay). Nothing else happens here: the
steps live in service/pipeline/ (and, for retention, erasure and tenant deletion, in
service/retention/purge.py, service/erasure/steps.py and service/erasure/tenant.py), the arq
specifics in service/queue.py.

Each job is safe to run twice: the step loads its state from Postgres and re-checks it. Only a
retry re-runs a job, so a step's unexpected error is counted on its row first (after too many
attempts the row fails for good) and then retried with back-off.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import structlog
from sqlalchemy import text

from service import queue
from service.auth.tenants import system_tenant
from service.erasure.steps import fail_erasure, run_erasure, stale_erasures
from service.erasure.tenant import delete_tenant_data, stale_deletions
from service.moderation.service import backoff
from service.pipeline.actions import perform_action, perform_quietly, record_action_error
from service.pipeline.context import PipelineContext
from service.pipeline.inbox import (
    REALTIME_BATCH,
    drain_connection,
    one_by_one,
    process_event,
    record_event_failure,
)
from service.pipeline.polling import POLL_TICK_SECONDS, due_connections, poll_once
from service.pipeline.reconcile import RECONCILE_EVERY_SECONDS, reconcile_once
from service.pipeline.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES, Scanner
from service.pipeline.scans import reconcile_scans as reconcile_stale_scans
from service.queue import JobName
from service.responses.steps import TRACK_TICK_SECONDS
from service.responses.steps import track_responses as track_responses_once
from service.retention.purge import purge_tenant, tenants_to_purge
from service.storms.steps import WATCH_TICK_SECONDS
from service.storms.steps import watch_storms as watch_storms_once
from service.webhooks.service import deliver_due, reconcile_deliveries
from service.workers.webhooks_context import webhooks_of

log = structlog.get_logger(__name__)

# Where the worker's startup puts the pipeline context in arq's ctx.
CONTEXT_KEY = "pipeline"


def pipeline_of(ctx: dict[str, Any]) -> PipelineContext:
    pctx: PipelineContext = ctx[CONTEXT_KEY]
    return pctx


def _try(ctx: dict[str, Any]) -> int:
    return int(ctx.get("job_try") or 1)


async def process_inbox_event(ctx: dict[str, Any], tenant_id: str, event_id: str) -> str:
    """One webhook change: detect, apply the policy and, on the hot path, hide in this same job
    (the action row is committed first, then the platform is called, then it is marked done)."""
    pctx = pipeline_of(ctx)
    tid, eid = system_tenant(tenant_id), uuid.UUID(event_id)
    try:
        outcome = await process_event(pctx, tid, eid)
    except Exception as exc:
        log.exception("inbox_event_error", event_id=event_id, error=type(exc).__name__)
        await record_event_failure(pctx, tid, eid, f"unexpected error: {type(exc).__name__}")
        raise queue.retry_later(backoff(_try(ctx))) from None
    if outcome.status == "retry":
        raise queue.retry_later(outcome.retry_after)
    # "busy": another job's batch holds the event and settles it (this job took what else
    # its connection had pending). Under load most jobs end so; retrying each a second later
    # would double the jobs for nothing. A holder that does not settle it (reconcile's brief
    # look at a stale event) leaves it to the next reconcile pass.
    if outcome.action_ids:
        await perform_quietly(pctx, tid, outcome.action_ids, outcome.fresh_action_ids)
    return outcome.status


# Batches one drain_inbox run takes at most before it hands over to the next window's run (so
# one busy page cannot keep a worker's slot for minutes).
DRAIN_ROUNDS = 10


async def drain_inbox(ctx: dict[str, Any], tenant_id: str, connection_id: str) -> int:
    """A connection's pending webhook events that need no platform read, in batches of up to
    ``REALTIME_BATCH``, each committed and then its hides performed; returns how many events
    were taken. Sent once per connection and window by the webhook answer."""
    pctx = pipeline_of(ctx)
    tid, cid = system_tenant(tenant_id), uuid.UUID(connection_id)
    taken = 0
    for _ in range(DRAIN_ROUNDS):
        try:
            outcome = await drain_connection(pctx, tid, cid)
        except Exception as exc:
            # One event may be the cause: each pending one goes through its own job, where a
            # failure is counted on its row and retried alone.
            log.exception(
                "inbox_drain_error", connection_id=connection_id, error=type(exc).__name__
            )
            await pctx.queue.send(await one_by_one(pctx, tid, cid))
            return taken
        if outcome.action_ids:
            await perform_quietly(pctx, tid, outcome.action_ids, outcome.fresh_action_ids)
        taken += outcome.events
        if outcome.events < REALTIME_BATCH:
            return taken
    await pctx.queue.send([queue.drain_inbox(tid, cid)])
    return taken


async def execute_action(ctx: dict[str, Any], tenant_id: str, action_id: str) -> str:
    """One moderation action (hide, unhide, reply), checking the platform's state first."""
    pctx = pipeline_of(ctx)
    tid, aid = system_tenant(tenant_id), uuid.UUID(action_id)
    try:
        outcome = await perform_action(pctx, tid, aid)
    except Exception as exc:
        log.exception("action_error", action_id=action_id, error=type(exc).__name__)
        await record_action_error(pctx, tid, aid, f"unexpected error: {type(exc).__name__}")
        raise queue.retry_later(backoff(_try(ctx))) from None
    if outcome.result == "retry":
        raise queue.retry_later(outcome.retry_after)
    if outcome.result == "busy":
        raise queue.retry_later(1.0)  # another worker performs it right now: look again
    return outcome.result


async def poll_recent(ctx: dict[str, Any]) -> int:
    """Cron: queue a poll of every active connection not polled within the interval."""
    return await due_connections(pipeline_of(ctx))


async def poll_connection(ctx: dict[str, Any], tenant_id: str, connection_id: str) -> int:
    """Read the recent comments of one connection's active posts and handle the new ones the
    same way as webhook events (the unique finding and action rows de-duplicate)."""
    return await poll_once(pipeline_of(ctx), system_tenant(tenant_id), uuid.UUID(connection_id))


async def reconcile(ctx: dict[str, Any]) -> int:
    """Cron: send again the inbox events and actions left pending."""
    return await reconcile_once(pipeline_of(ctx))


async def run_scan(ctx: dict[str, Any], tenant_id: str, scan_id: str) -> str:
    """Walk one scan from its checkpoint for one slice (service/pipeline/scans.py)."""
    scanner = Scanner(
        pipeline_of(ctx), system_tenant(tenant_id), uuid.UUID(scan_id), job_try=_try(ctx)
    )
    outcome, retry_after = await scanner.run()
    if retry_after is not None:
        raise queue.retry_later(retry_after)
    return outcome


async def reconcile_scans(
    ctx: dict[str, Any], *, stale_after: dt.timedelta | None = None
) -> list[str]:
    """Cron: send a job for every active scan that has none. Returns their ids."""
    return await reconcile_stale_scans(pipeline_of(ctx), stale_after=stale_after)


async def track_responses(ctx: dict[str, Any]) -> int:
    """Cron: apply service hours to new comments, link the page's replies, mark broken
    promises (service/responses/steps.py). Returns how many rows were worked."""
    outcome = await track_responses_once(pipeline_of(ctx).db)
    return outcome.processed + outcome.overdue


async def watch_storms(ctx: dict[str, Any]) -> int:
    """Cron: the storm rule over every page commented on in the last minutes
    (service/storms/steps.py). Returns how many connections were watched."""
    return (await watch_storms_once(pipeline_of(ctx).db)).watched


async def deliver_webhooks(ctx: dict[str, Any], tenant_id: str, endpoint_id: str) -> str:
    """Drain one webhook endpoint's due deliveries (service/webhooks/service.py). One drain per
    endpoint runs in this process: a second job for an endpoint being drained returns at once
    and the running drain takes its deliveries too, so a slow or dead endpoint holds one job
    slot, never the others, and deliveries to other endpoints keep flowing."""
    wctx = webhooks_of(ctx)
    endpoint = uuid.UUID(endpoint_id)
    if not wctx.sender.start_drain(endpoint):
        return "busy"
    try:
        counts = await deliver_due(
            wctx.db, wctx.cipher, wctx.sender, system_tenant(tenant_id), endpoint
        )
    finally:
        wctx.sender.finish_drain(endpoint)
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))


async def reconcile_webhook_deliveries(ctx: dict[str, Any]) -> int:
    """Cron: wake the endpoints whose deliveries are overdue (their job was lost) and update
    the oldest-pending gauge."""
    wctx = webhooks_of(ctx)
    return await reconcile_deliveries(wctx.db, wctx.queue, wctx.sender.config)


# --- retention, erasure, tenant deletion ---------------------------------------------------------

# A purge job stops after this long; the next hourly run continues (the purge keeps no state).
PURGE_BUDGET_SECONDS = 240
ERASE_MAX_TRIES = 5
STALE_PRIVACY_WORK = dt.timedelta(minutes=10)


async def schedule_retention(ctx: dict[str, Any]) -> int:
    """Cron (hourly): one purge job per tenant, not for tenants being deleted."""
    pctx = pipeline_of(ctx)
    tenant_ids = await tenants_to_purge(pctx.db)
    for tenant_id in tenant_ids:
        await pctx.queue.resend(queue.purge_retention(tenant_id))
    return len(tenant_ids)


async def purge_retention(ctx: dict[str, Any], tenant_id: str) -> dict[str, int]:
    result = await purge_tenant(
        pipeline_of(ctx).db, system_tenant(tenant_id), budget_seconds=PURGE_BUDGET_SECONDS
    )
    return result.counts


async def erase_subject(ctx: dict[str, Any], tenant_id: str, request_id: str) -> str | None:
    pctx = pipeline_of(ctx)
    tid, rid = system_tenant(tenant_id), uuid.UUID(request_id)
    try:
        status = await run_erasure(pctx.db, pctx.settings, pctx.cipher, pctx.graph, tid, rid)
    except Exception as exc:
        log.warning("erasure_error", request_id=request_id, error=type(exc).__name__)
        if _try(ctx) >= ERASE_MAX_TRIES:
            await fail_erasure(pctx.db, tid, rid, type(exc).__name__)
            return "failed"
        raise queue.retry_later(min(2 ** _try(ctx), 60)) from None
    return status.value if status is not None else None


async def reconcile_erasures(ctx: dict[str, Any]) -> int:
    """Cron: re-send erasure requests left pending or running (a lost job, a killed worker)."""
    pctx = pipeline_of(ctx)
    stale = await stale_erasures(pctx.db, STALE_PRIVACY_WORK)
    for tenant_id, request_id, attempt in stale:
        await pctx.queue.resend(queue.erase_subject(tenant_id, request_id, attempt))
    return len(stale)


async def delete_tenant(ctx: dict[str, Any], tenant_id: str) -> dict[str, int]:
    return await delete_tenant_data(pipeline_of(ctx).db, system_tenant(tenant_id))


async def reconcile_tenant_deletions(ctx: dict[str, Any]) -> int:
    """Cron: re-send the deletion of tenants still being deleted after a while (deleting again
    is harmless)."""
    pctx = pipeline_of(ctx)
    tenant_ids = await stale_deletions(pctx.db, STALE_PRIVACY_WORK)
    for tenant_id in tenant_ids:
        await pctx.queue.resend(queue.delete_tenant(tenant_id))
    return len(tenant_ids)


async def check_database(ctx: dict[str, Any]) -> bool:
    """A liveness probe through the queue: proves a worker can reach Postgres."""
    async with pipeline_of(ctx).db.system_unit_of_work() as uow:
        await uow.session.execute(text("SELECT 1"))
    return True


# Our own attempt counters bound the retries; arq's max_tries is a backstop.
FUNCTIONS: list[queue.WorkerFunction] = [
    queue.job_function(JobName.CHECK_DATABASE, check_database, max_tries=1),
    queue.job_function(
        JobName.PROCESS_INBOX_EVENT, process_inbox_event, max_tries=20, timeout=60, keep_result=0
    ),
    # A failed drain hands its events to their own jobs; a lost one, to the reconcile cron.
    queue.job_function(JobName.DRAIN_INBOX, drain_inbox, max_tries=1, timeout=60, keep_result=0),
    queue.job_function(
        JobName.EXECUTE_ACTION, execute_action, max_tries=20, timeout=60, keep_result=0
    ),
    queue.job_function(
        JobName.POLL_CONNECTION, poll_connection, max_tries=1, timeout=60, keep_result=0
    ),
    queue.job_function(
        JobName.RUN_SCAN, run_scan, timeout=SCAN_JOB_TIMEOUT, max_tries=SCAN_MAX_TRIES
    ),
    # A drain takes rounds for ``drain_seconds``; a round's attempts may each take the 15 s
    # timeout. Lost or failed drains: the reconcile cron wakes the endpoint again.
    queue.job_function(
        JobName.DELIVER_WEBHOOKS, deliver_webhooks, max_tries=1, timeout=300, keep_result=0
    ),
    queue.job_function(
        JobName.PURGE_RETENTION, purge_retention, max_tries=1, timeout=PURGE_BUDGET_SECONDS + 60
    ),
    queue.job_function(
        JobName.ERASE_SUBJECT, erase_subject, max_tries=ERASE_MAX_TRIES + 1, timeout=600
    ),
    queue.job_function(JobName.DELETE_TENANT, delete_tenant, max_tries=3, timeout=3600),
]
CRON_JOBS: list[queue.WorkerCron] = [
    queue.cron_job(
        JobName.POLL_RECENT, poll_recent, second=set(range(0, 60, POLL_TICK_SECONDS)), timeout=30
    ),
    queue.cron_job(
        JobName.RECONCILE,
        reconcile,
        second=set(range(0, 60, RECONCILE_EVERY_SECONDS)),
        timeout=queue.LONGEST_JOB_SECONDS,
    ),
    queue.cron_job(
        JobName.RECONCILE_SCANS,
        reconcile_scans,
        second=set(range(2, 60, RECONCILE_EVERY_SECONDS)),
        timeout=queue.LONGEST_JOB_SECONDS,
    ),
    # Off the hot path: the pipeline only inserts; these two do the arithmetic every 15 s.
    queue.cron_job(
        JobName.TRACK_RESPONSES,
        track_responses,
        second=set(range(0, 60, TRACK_TICK_SECONDS)),
        timeout=60,
    ),
    queue.cron_job(
        JobName.WATCH_STORMS,
        watch_storms,
        second=set(range(7, 60, WATCH_TICK_SECONDS)),
        timeout=60,
    ),
    queue.cron_job(
        JobName.RECONCILE_WEBHOOK_DELIVERIES,
        reconcile_webhook_deliveries,
        second={5, 20, 35, 50},
        timeout=60,
    ),
    queue.cron_job(JobName.SCHEDULE_RETENTION, schedule_retention, minute=17, second=0, timeout=60),
    queue.cron_job(JobName.RECONCILE_ERASURES, reconcile_erasures, second=30, timeout=60),
    queue.cron_job(
        JobName.RECONCILE_TENANT_DELETIONS,
        reconcile_tenant_deletions,
        minute=set(range(5, 60, 10)),
        second=20,
        timeout=60,
    ),
]
