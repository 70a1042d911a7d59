"""The response tracker: a cron step (``track_responses``, every 15 s) that does, off the hot
path, what ``observe_comments`` left undone.

1. New customer comments get the terms of their connection in force now: the promise, its
   deadline (service/servicehours/arithmetic.py) and whether a hidden comment still counts.
2. Every thread with something new is linked again: each customer comment's first reply is the
   earliest page reply in its thread made at or after it (not Wallguard's own automatic reply
   to a hidden comment: that is not the team's answer) (a reply seen before the comment it
   answers, as polls can deliver them, is linked when the comment arrives), and its response time
   is counted in service hours.
3. Promises broken since the last tick are marked once (``overdue_at``); ``response.overdue``
   goes out then. Only deadlines within the last day are looked at, so a backfill of old,
   never-answered comments shows in ``/v1/unanswered`` and the reports without sending an
   event for each.

Each tenant is worked in its own unit of work, rows locked with SKIP LOCKED, so two workers
running the cron at once share the work instead of doing it twice. ``now`` is injectable (tests).
"""

from __future__ import annotations

import bisect
import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

import structlog

from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.db import Database, UnitOfWork, utcnow
from service.moderation.repository import ActionRepository
from service.responses.models import TrackedComment
from service.responses.repository import Fresh, ResponseRepository, Settled
from service.responses.service import overdue_event
from service.servicehours.arithmetic import deadline, service_seconds
from service.servicehours.service import DEFAULT_TERMS, Terms, terms_for

log = structlog.get_logger(__name__)

TRACK_TICK_SECONDS = 15
# Rows worked per tenant and tick (a busy page writes 50 a second: 750 a tick).
BATCH = 5_000
TENANTS_PER_TICK = 200
# Broken promises older than this are reported, not announced (see the module docstring).
OVERDUE_LOOKBACK = dt.timedelta(days=1)


@dataclass(slots=True)
class TrackOutcome:
    processed: int = 0
    linked: int = 0
    overdue: int = 0


async def track_responses(db: Database, now: dt.datetime | None = None) -> TrackOutcome:
    now = now or utcnow()
    outcome = TrackOutcome()
    async with db.system_unit_of_work() as uow:
        pending = await ResponseRepository(uow.session).tenants_with_unprocessed(TENANTS_PER_TICK)
    for raw in pending:
        async with db.unit_of_work(system_tenant(raw)) as uow:
            processed, linked = await process_new(uow, uow.tenant)
            outcome.processed += processed
            outcome.linked += linked
    # After the new rows got their deadlines: a comment seen late may be overdue already.
    async with db.system_unit_of_work() as uow:
        breaking = await ResponseRepository(uow.session).tenants_with_broken_promises(
            now, OVERDUE_LOOKBACK, TENANTS_PER_TICK
        )
    for raw in breaking:
        async with db.unit_of_work(system_tenant(raw)) as uow:
            outcome.overdue += await mark_overdue(uow, uow.tenant, now)
    if outcome.processed or outcome.overdue:
        log.info(
            "responses_tracked",
            processed=outcome.processed,
            linked=outcome.linked,
            overdue=outcome.overdue,
        )
    return outcome


async def process_new(uow: UnitOfWork, tenant_id: TenantId) -> tuple[int, int]:
    """Apply terms to the tenant's new rows and link their threads. Returns (rows processed,
    comments given a first reply)."""
    repo = ResponseRepository(uow.session)
    fresh = await repo.unprocessed(tenant_id, BATCH)
    if not fresh:
        return 0, 0
    connections = await repo.connections(tenant_id, {r.connection_id for r in fresh})
    terms = await terms_for(uow, tenant_id, connections)
    await repo.settle(
        tenant_id,
        [
            Settled(row.id, False, None, False, None)
            if row.by_page
            else _settled(row, terms.get(row.connection_id, DEFAULT_TERMS))
            for row in fresh
        ],
    )
    threads: dict[tuple[uuid.UUID, str], list[TrackedComment]] = defaultdict(list)
    for row in await repo.replied_threads(
        tenant_id, {(r.connection_id, r.thread_id) for r in fresh}
    ):
        threads[row.connection_id, row.thread_id].append(row)
    # Wallguard's own automatic replies (hide_and_reply) are not the team's answer.
    automatic: set[str] = set()
    replies: dict[uuid.UUID, list[str]] = defaultdict(list)
    for rows in threads.values():
        replies[rows[0].connection_id].extend(r.comment_id for r in rows if r.by_page)
    actions = ActionRepository(uow.session)
    for connection_id, reply_ids in replies.items():
        automatic |= await actions.own_replies(tenant_id, connection_id, reply_ids)
    linked = 0
    for (connection_id, _), rows in threads.items():
        linked += link_thread(
            [r for r in rows if r.comment_id not in automatic],
            terms.get(connection_id, DEFAULT_TERMS),
        )
    await uow.session.flush()
    return len(fresh), linked


def _settled(row: Fresh, terms: Terms) -> Settled:
    minutes = terms.first_response_minutes
    return Settled(
        row.id,
        True,
        minutes,
        terms.count_hidden_comments,
        deadline(terms.schedule, row.commented_at, minutes) if minutes is not None else None,
    )


def link_thread(rows: list[TrackedComment], terms: Terms) -> int:
    """Give each customer comment of one thread its first page reply at or after it (an earlier
    one than recorded, when a late-seen reply turns out to be earlier). Returns how many changed."""
    replies = sorted((r.commented_at, r.comment_id) for r in rows if r.by_page)
    if not replies:
        return 0
    times = [t for t, _ in replies]
    changed = 0
    for row in rows:
        if row.by_page:
            continue
        i = bisect.bisect_left(times, row.commented_at)
        if i == len(times):
            continue
        replied_at, reply_id = replies[i]
        if row.first_reply_at is not None and row.first_reply_at <= replied_at:
            continue
        row.first_reply_at = replied_at
        row.reply_comment_id = reply_id
        row.response_seconds = service_seconds(terms.schedule, row.commented_at, replied_at)
        changed += 1
    return changed


async def mark_overdue(uow: UnitOfWork, tenant_id: TenantId, now: dt.datetime) -> int:
    """Mark the promises broken since the last tick, once each, and send ``response.overdue``
    for each in the same unit of work (the mark and the event commit together)."""
    repo = ResponseRepository(uow.session)
    rows = await repo.broken_promises(tenant_id, now, OVERDUE_LOOKBACK, BATCH)
    connections = {
        c.id: c for c in await repo.connections(tenant_id, {r.connection_id for r in rows})
    }
    for row in rows:
        row.overdue_at = now
        connection = connections.get(row.connection_id)
        if connection is not None:
            overdue_event(uow, row, connection)
    await uow.session.flush()
    return len(rows)
