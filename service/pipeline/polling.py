"""Polling recent posts, because page webhooks can arrive minutes late (or not at all).

``due_connections`` (the ``poll_recent`` cron, every ``POLL_TICK_SECONDS``) lists the active
connections whose interval has passed; ``poll_once`` (one ``poll_connection`` job each) reads the
comments of the connection's recently active posts from the platform, outside any transaction,
and hands them to ``handle_comments`` in one unit of work, the same way as webhook events (the
unique finding and action rows de-duplicate), then performs the actions recorded.
"""

from __future__ import annotations

import datetime as dt
import uuid

import structlog

from service import queue as jobs
from service.auth.types import TenantId
from service.connections.errors import NoPageToken
from service.connections.models import ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.db import utcnow
from service.findings.models import FindingSource
from service.inbox.repository import InboxRepository
from service.moderation.service import ACTOR
from service.pipeline.actions import perform_quietly
from service.pipeline.comments import CommentView, comment_view, handle_comments
from service.pipeline.context import PipelineContext
from service.platforms import errors as platform

log = structlog.get_logger(__name__)

# How often the ``poll_recent`` cron looks for due connections (each is polled per its own
# interval, a setting).
POLL_TICK_SECONDS = 5
# Feed pages and comment pages one poll reads at most per connection (bounds a poll's cost).
_MAX_FEED_PAGES = 4
_MAX_COMMENT_PAGES = 4


async def due_connections(pctx: PipelineContext) -> int:
    """Queue a poll of every active connection not polled within its interval; returns how
    many jobs were sent."""
    # The cron ticks every POLL_TICK_SECONDS; a connection is due once its interval has passed,
    # give or take half a tick, so the interval is a setting and not the cron's schedule.
    slack = POLL_TICK_SECONDS / 2
    due_before = utcnow() - dt.timedelta(
        seconds=max(0.0, pctx.config.poll_interval_seconds - slack)
    )
    async with pctx.db.system_unit_of_work() as uow:
        rows = await ConnectionRepository(uow.session).due_for_poll(due_before)
    slot = int(utcnow().timestamp()) // max(1, pctx.config.poll_interval_seconds)
    polls = [jobs.poll_connection(t, c, slot) for t, c in rows]
    return await pctx.queue.send(polls) if polls else 0


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
        except NoPageToken:
            return 0
        window_start = started - dt.timedelta(seconds=config.poll_window_seconds)
        cutoff = window_start
        if connection.last_polled_at is not None:
            cutoff = max(
                window_start,
                connection.last_polled_at - dt.timedelta(seconds=config.poll_overlap_seconds),
            )
        # Posts with recent webhook activity count as active even when they are old.
        event_posts = await InboxRepository(uow.session).recent_post_ids(
            tenant_id, connection.id, window_start
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
        await perform_quietly(pctx, tenant_id, action_ids, fresh)
    return len(comments)


async def _recent_fb_comments(
    pctx: PipelineContext,
    page_id: str,
    token: str,
    window_start: dt.datetime,
    cutoff: dt.datetime,
    event_posts: set[str],
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
            except platform.PlatformNotFound:
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
