"""The real-time pipeline's jobs: inbox events, moderation actions, polling, reconcile.

Each job takes ids (strings), loads its state from Postgres and is safe to run twice. Transient
platform trouble raises arq's ``Retry`` with the platform's wait; permanent trouble is recorded
on the row (failed + last_error). A reconcile cron resends what is left pending, so losing Redis
or a worker loses nothing.

Connection states: a paused or revoked connection's events are marked skipped (with the reason)
and nothing is done on the platform. A connection in needs_reauth (the platform refused its token)
leaves its events and actions pending, untouched: reconcile only resends work of active
connections, so once the page is re-authorised the backlog is processed in order. Polling covers
the rest of that gap (posts active in the last two hours).

Register with the worker: ``FUNCTIONS`` and ``CRON_JOBS`` below, and ``pipeline_startup`` /
``pipeline_shutdown`` (service/workers/pipeline_context.py) in its startup and shutdown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from typing import Any

import structlog
from arq.cron import CronJob, cron
from arq.worker import Function, Retry, func
from sqlalchemy import select

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.db import utcnow
from service.errors import NotFound as NoToken
from service.findings.models import FindingSource
from service.findings.pipeline import (
    CommentView,
    comment_view,
    handle_comments,
    perform_pending_actions,
    process_event,
    record_event_failure,
)
from service.inbox.models import InboxEvent, InboxStatus
from service.inbox.service import PROCESS_INBOX_EVENT_JOB, inbox_job_id
from service.moderation.repository import ActionRepository
from service.moderation.service import (
    ACTOR,
    EXECUTE_ACTION_JOB,
    action_job_id,
    backoff,
    perform_action,
    record_action_error,
)
from service.platforms import errors as platform
from service.queue import Job
from service.workers.pipeline_context import PipelineContext, pipeline_of

log = structlog.get_logger(__name__)

POLL_CONNECTION_JOB = "poll_connection"
# Feed pages and comment pages one poll reads at most per connection (bounds a poll's cost).
_MAX_FEED_PAGES = 4
_MAX_COMMENT_PAGES = 4


def _try(ctx: dict[str, Any]) -> int:
    return int(ctx.get("job_try") or 1)


# --- jobs ------------------------------------------------------------------------------------


async def process_inbox_event(ctx: dict[str, Any], tenant_id: str, event_id: str) -> str:
    """One webhook change: detect, apply the policy and, on the hot path, hide in this same job
    (the action row is committed first, then the platform is called, then it is marked done)."""
    pctx = pipeline_of(ctx)
    tid, eid = TenantId(uuid.UUID(tenant_id)), uuid.UUID(event_id)
    try:
        outcome = await process_event(pctx, tid, eid)
    except Exception as exc:
        log.exception("inbox_event_error", event_id=event_id, error=type(exc).__name__)
        await record_event_failure(pctx, tid, eid, f"unexpected error: {type(exc).__name__}")
        raise Retry(defer=backoff(_try(ctx))) from None
    if outcome.status == "retry":
        raise Retry(defer=outcome.retry_after)
    handled = outcome.handled
    if handled is not None and handled.action_ids:
        await _perform(pctx, tid, handled.action_ids, handled.fresh_action_ids)
    return outcome.status


async def _perform(
    pctx: PipelineContext,
    tenant_id: TenantId,
    action_ids: Sequence[uuid.UUID],
    fresh: Collection[uuid.UUID],
) -> None:
    try:
        await perform_pending_actions(pctx, tenant_id, action_ids, fresh=frozenset(fresh))
    except Exception as exc:
        # The actions are pending rows: reconcile sends them again.
        log.exception("perform_actions_error", error=type(exc).__name__)


async def execute_action(ctx: dict[str, Any], tenant_id: str, action_id: str) -> str:
    """One moderation action (hide, unhide, reply), checking the platform's state first."""
    pctx = pipeline_of(ctx)
    tid, aid = TenantId(uuid.UUID(tenant_id)), uuid.UUID(action_id)
    try:
        outcome = await perform_action(pctx, tid, aid)
    except Exception as exc:
        log.exception("action_error", action_id=action_id, error=type(exc).__name__)
        await record_action_error(pctx, tid, aid, f"unexpected error: {type(exc).__name__}")
        raise Retry(defer=backoff(_try(ctx))) from None
    if outcome.result == "retry":
        raise Retry(defer=outcome.retry_after)
    return outcome.result


async def poll_recent(ctx: dict[str, Any]) -> int:
    """Cron: queue a poll of every active connection not polled within the interval."""
    pctx = pipeline_of(ctx)
    # The cron ticks every POLL_TICK_SECONDS; a connection is due once its interval has passed,
    # give or take half a tick, so the interval is a setting and not the cron's schedule.
    slack = POLL_TICK_SECONDS / 2
    due_before = utcnow() - dt.timedelta(
        seconds=max(0.0, pctx.config.poll_interval_seconds - slack)
    )
    async with pctx.db.system_unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(Connection.tenant_id, Connection.id).where(
                    Connection.status == ConnectionStatus.ACTIVE,
                    Connection.token_ciphertext.is_not(None),
                    (Connection.last_polled_at.is_(None))
                    | (Connection.last_polled_at < due_before),
                )
            )
        ).all()
    jobs = [Job(POLL_CONNECTION_JOB, (str(t), str(c)), job_id=f"poll:{c}") for t, c in rows]
    return await pctx.queue.send(jobs) if jobs else 0


async def poll_connection(ctx: dict[str, Any], tenant_id: str, connection_id: str) -> int:
    """Read the recent comments of one connection's active posts and handle the new ones the
    same way as webhook events (the unique finding and action rows de-duplicate)."""
    return await poll_once(
        pipeline_of(ctx), TenantId(uuid.UUID(tenant_id)), uuid.UUID(connection_id)
    )


async def reconcile(ctx: dict[str, Any]) -> int:
    """Cron: send again the inbox events and actions left pending (Redis lost its queue, a
    worker died, an enqueue failed). Only for active connections: a page waiting for
    re-authorisation keeps its events until it is reconnected."""
    return await reconcile_once(pipeline_of(ctx))


async def reconcile_once(pctx: PipelineContext, *, tenant_id: TenantId | None = None) -> int:
    """One reconcile pass over every tenant (or one, for tests); returns how many jobs were
    sent."""
    older_than = utcnow() - dt.timedelta(seconds=pctx.config.stale_after_seconds)
    limit = pctx.config.reconcile_batch
    async with pctx.db.system_unit_of_work() as uow:
        events = await ConnectionRepository(uow.session).stale_pending(
            InboxEvent, InboxStatus.PENDING, older_than, limit, tenant_id=tenant_id
        )
        actions = await ActionRepository(uow.session).stale_pending(
            older_than, limit, tenant_id=tenant_id
        )
    sent = 0
    for tenant, event_id in events:
        sent += await pctx.queue.resend(
            Job(
                PROCESS_INBOX_EVENT_JOB, (str(tenant), str(event_id)), job_id=inbox_job_id(event_id)
            ),
        )
    for tenant, action_id in actions:
        sent += await pctx.queue.resend(
            Job(EXECUTE_ACTION_JOB, (str(tenant), str(action_id)), job_id=action_job_id(action_id)),
        )
    if sent:
        log.info("reconcile_resent", events=len(events), actions=len(actions), sent=sent)
    return sent


# --- polling ---------------------------------------------------------------------------------


async def poll_once(pctx: PipelineContext, tenant_id: TenantId, connection_id: uuid.UUID) -> int:
    """Returns how many comments were handled."""
    started = utcnow()
    config = pctx.config
    async with pctx.db.unit_of_work(tenant_id) as uow:
        connection = await ConnectionRepository(uow.session).get(tenant_id, connection_id)
        if connection is None or connection.status is not ConnectionStatus.ACTIVE:
            return 0
        try:
            token = page_token(pctx.cipher, connection)
        except NoToken:
            return 0
        window_start = started - dt.timedelta(seconds=config.poll_window_seconds)
        cutoff = window_start
        if connection.last_polled_at is not None:
            cutoff = max(
                window_start,
                connection.last_polled_at - dt.timedelta(seconds=config.poll_overlap_seconds),
            )
        # Posts with recent webhook activity count as active even when they are old.
        event_posts = set(
            (
                await uow.session.scalars(
                    select(InboxEvent.post_id)
                    .where(
                        InboxEvent.tenant_id == tenant_id,
                        InboxEvent.connection_id == connection.id,
                        InboxEvent.received_at >= window_start,
                        InboxEvent.post_id.is_not(None),
                    )
                    .distinct()
                )
            ).all()
        )
        platform_kind, external_id = connection.platform, connection.external_id
    try:
        if platform_kind is Platform.INSTAGRAM:
            comments = await _recent_ig_comments(pctx, external_id, token, window_start, cutoff)
        else:
            comments = await _recent_fb_comments(
                pctx, external_id, token, window_start, cutoff, event_posts
            )
    except platform.TokenInvalid:
        async with pctx.db.unit_of_work(tenant_id) as uow:
            connection = await ConnectionRepository(uow.session).get(tenant_id, connection_id)
            if connection is not None:
                await mark_needs_reauth(
                    uow, connection, "the platform refused the page token", ACTOR
                )
        return 0
    except (platform.RateLimited, platform.PlatformUnavailable) as exc:
        # The next poll tries again; last_polled_at stays, so nothing in between is skipped.
        log.info("poll_deferred", connection_id=str(connection_id), error=type(exc).__name__)
        return 0
    except platform.PlatformError as exc:
        log.warning("poll_failed", connection_id=str(connection_id), error=type(exc).__name__)
        return 0

    async with pctx.db.unit_of_work(tenant_id) as uow:
        connection = await ConnectionRepository(uow.session).get(tenant_id, connection_id)
        if connection is None or connection.status is not ConnectionStatus.ACTIVE:
            return 0
        # All of them in one go: most were seen before (the window overlaps the last poll),
        # and a page that is busy has thousands.
        outcomes = await handle_comments(
            pctx, uow, connection, comments, source=FindingSource.POLL, received_at=started
        )
        connection.last_polled_at = started
    action_ids = [a for o in outcomes for a in o.action_ids]
    if action_ids:
        fresh = [a for o in outcomes for a in o.fresh_action_ids]
        await _perform(pctx, tenant_id, action_ids, fresh)
    return len(comments)


async def _recent_fb_comments(
    pctx: PipelineContext,
    page_id: str,
    token: str,
    window_start: dt.datetime,
    cutoff: dt.datetime,
    event_posts: set[str | None],
) -> list[CommentView]:
    graph = pctx.graph
    post_ids: list[str] = []
    after: str | None = None
    for _ in range(_MAX_FEED_PAGES):
        posts, after = await graph.feed_page(
            page_id, token, after=after, since=window_start, limit=100
        )
        post_ids.extend(p.id for p in posts)
        if after is None:
            break
    post_ids.extend(sorted(p for p in event_posts if p and p not in post_ids))
    found: list[CommentView] = []
    for post_id in post_ids:
        after = None
        for _ in range(_MAX_COMMENT_PAGES):
            try:
                comments, after = await graph.comments_page(
                    post_id,
                    token,
                    after=after,
                    filter="stream",
                    order="reverse_chronological",
                    limit=100,
                    post_id=post_id,
                )
            except platform.NotFound:
                break  # the post was removed
            older = False
            for comment in comments:
                if comment.created_time is not None and comment.created_time < cutoff:
                    older = True  # newest first: everything after this is older still
                    break
                found.append(comment_view(comment, post_id=post_id))
            if older or after is None:
                break
    return found


async def _recent_ig_comments(
    pctx: PipelineContext,
    ig_user_id: str,
    token: str,
    window_start: dt.datetime,
    cutoff: dt.datetime,
) -> list[CommentView]:
    graph = pctx.graph
    media, _ = await graph.ig_media_page(ig_user_id, token, limit=25)
    found: list[CommentView] = []
    for item in media:
        if item.timestamp is not None and item.timestamp < window_start and not item.comments_count:
            continue
        comments, _ = await graph.ig_comments_page(item.id, token, limit=50)
        found.extend(
            comment_view(c, post_id=item.id)
            for c in comments
            if c.timestamp is None or c.timestamp >= cutoff
        )
    return found


# --- registration ----------------------------------------------------------------------------

# How often ``poll_recent`` looks for due connections (each is polled per its own interval).
POLL_TICK_SECONDS = 5

FUNCTIONS: list[Function] = [
    # Our own attempt counters bound the retries; arq's max_tries is a backstop.
    func(
        process_inbox_event, name=PROCESS_INBOX_EVENT_JOB, max_tries=20, timeout=60, keep_result=0
    ),
    func(execute_action, name=EXECUTE_ACTION_JOB, max_tries=20, timeout=60, keep_result=0),
    func(poll_connection, name=POLL_CONNECTION_JOB, max_tries=1, timeout=120, keep_result=0),
]
CRON_JOBS: list[CronJob] = [
    cron(
        poll_recent,
        name="poll_recent",
        second=set(range(0, 60, POLL_TICK_SECONDS)),
        timeout=30,
    ),
    cron(reconcile, name="reconcile", second=15, timeout=60),
]
