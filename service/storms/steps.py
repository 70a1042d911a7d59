"""The storm watcher: a cron step (``watch_storms``, every 15 s) applying service/storms/rule.py
to every connection with customer comments in the last window or a storm in progress.

Off the hot path by design: the pipeline only inserts its comments' rows
(service/responses/service.py ``observe_comments``); the watcher counts them here per minute
into ``comment_counts`` (the last ``RECOUNT`` again each tick, because comments arrive late) and
reads baselines from those counts, so its cost per tick depends on the number of busy pages, not
on how fast they are commented on. A page seen for the first time gets its history counted
once (a backfill's comments make its first baseline). ``now`` is injectable: tests replay an
evening tick by tick.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import structlog

from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.db import Database, UnitOfWork, utcnow
from service.storms import rule
from service.storms.models import Storm, StormStatus
from service.storms.repository import StormRepository
from service.storms.service import storm_event
from service.webhooks.events import EventType

log = structlog.get_logger(__name__)

WATCH_TICK_SECONDS = 15
RECOUNT = dt.timedelta(minutes=10)
HISTORY = dt.timedelta(weeks=rule.BASELINE_WEEKS) + rule.BASELINE_SPAN
# Counts older than this are never read again.
KEEP_COUNTS = HISTORY + dt.timedelta(days=1)
TOP_POSTS = 3
# How far back a storm's posts are counted each tick (bounds the tick's cost in a long storm:
# at 50 comments a second, 45,000 rows).
POSTS_LOOKBACK = dt.timedelta(minutes=15)


@dataclass(slots=True)
class WatchOutcome:
    watched: int = 0
    started: list[uuid.UUID] = field(default_factory=list)
    ended: list[uuid.UUID] = field(default_factory=list)


def _minute(value: dt.datetime) -> dt.datetime:
    return value.replace(second=0, microsecond=0)


async def watch_storms(db: Database, now: dt.datetime | None = None) -> WatchOutcome:
    now = now or utcnow()
    outcome = WatchOutcome()
    async with db.system_unit_of_work() as uow:
        repo = StormRepository(uow.session)
        pairs = set(await repo.commenting(now - rule.WINDOW, now)) | set(await repo.storming())
        if now.minute == 0 and now.second < WATCH_TICK_SECONDS:
            await repo.prune_counts(now - KEEP_COUNTS)
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for tenant, connection in sorted(pairs):
        by_tenant[tenant].append(connection)
    for tenant, connections in by_tenant.items():
        async with db.unit_of_work(system_tenant(tenant)) as uow:
            for connection_id in connections:
                await watch_connection(uow, uow.tenant, connection_id, now, outcome)
                outcome.watched += 1
    if outcome.started or outcome.ended:
        log.info("storms_watched", started=len(outcome.started), ended=len(outcome.ended))
    return outcome


async def _baseline(
    repo: StormRepository,
    tenant_id: TenantId,
    connection_id: uuid.UUID,
    now: dt.datetime,
    storm: Storm | None,
) -> float:
    first = await repo.first_counted(tenant_id, connection_id)
    weekly: list[int | None] = []
    for week in range(1, rule.BASELINE_WEEKS + 1):
        start = _minute(now - dt.timedelta(weeks=week) - rule.BASELINE_SPAN / 2)
        if first is None or start < first:
            weekly.append(None)
            continue
        weekly.append(
            await repo.counted(tenant_id, connection_id, start, start + rule.BASELINE_SPAN)
        )
    trailing: tuple[int, float] | None = None
    if first is not None:
        # Never the storm in progress: it would raise its own bar and end itself.
        end = _minute(min(now - rule.WINDOW, storm.started_at if storm else now))
        start = max(first, _minute(now - rule.TRAILING))
        if end > start:
            minutes = (end - start).total_seconds() / 60
            trailing = (await repo.counted(tenant_id, connection_id, start, end), minutes)
    return rule.baseline_per_minute(weekly, trailing)


async def watch_connection(
    uow: UnitOfWork,
    tenant_id: TenantId,
    connection_id: uuid.UUID,
    now: dt.datetime,
    outcome: WatchOutcome,
) -> None:
    repo = StormRepository(uow.session)
    if await repo.first_counted(tenant_id, connection_id) is None:
        await repo.recount(tenant_id, connection_id, _minute(now - HISTORY), now)
    else:
        await repo.recount(tenant_id, connection_id, _minute(now - RECOUNT), now)
    storm = await repo.active(tenant_id, connection_id)
    baseline = await _baseline(repo, tenant_id, connection_id, now, storm)
    expected = baseline * rule.WINDOW_MINUTES
    window_start = now - rule.WINDOW
    n = await repo.count_comments(tenant_id, connection_id, window_start, now)
    rate = n / rule.WINDOW_MINUTES
    if storm is None:
        if not rule.is_hot(n, expected):
            return
        connection = await repo.connection(tenant_id, connection_id)
        if connection is None:  # deleted a moment ago
            return
        started_at = await repo.first_comment(tenant_id, connection_id, window_start, now)
        storm = Storm(
            tenant_id=tenant_id,
            connection_id=connection_id,
            client_id=connection.client_id,
            status=StormStatus.ACTIVE,
            started_at=started_at,
            detected_at=now,
            last_elevated_at=now,
            ended_at=None,
            baseline_per_minute=baseline,
            rate_per_minute=rate,
            peak_per_minute=rate,
            comments=n,
            posts=[],
        )
        repo.add(storm)
        await _follow(repo, tenant_id, storm, now)
        await uow.session.flush()
        storm_event(uow, EventType.STORM_STARTED, storm, connection.platform)
        outcome.started.append(storm.id)
        log.info("storm_started", storm_id=str(storm.id), connection_id=str(connection_id))
        return
    storm.rate_per_minute = rate
    if rule.is_elevated(n, expected):
        storm.last_elevated_at = now
        storm.peak_per_minute = max(storm.peak_per_minute, rate)
        await _follow(repo, tenant_id, storm, now)
        return
    if now - storm.last_elevated_at >= rule.QUIET:
        storm.status = StormStatus.ENDED
        storm.ended_at = storm.last_elevated_at
        storm.comments = await repo.count_comments(
            tenant_id,
            connection_id,
            storm.started_at - dt.timedelta(microseconds=1),
            storm.ended_at,
        )
        await uow.session.flush()
        connection = await repo.connection(tenant_id, connection_id)
        if connection is not None:
            storm_event(uow, EventType.STORM_ENDED, storm, connection.platform)
        outcome.ended.append(storm.id)
        log.info("storm_ended", storm_id=str(storm.id), connection_id=str(connection_id))


async def _follow(
    repo: StormRepository, tenant_id: TenantId, storm: Storm, now: dt.datetime
) -> None:
    """The storm's running totals: its comments so far (from the minute counts, so a long
    storm costs no more than a short one) and the posts drawing them."""
    this_minute = _minute(now)
    storm.comments = await repo.counted(
        tenant_id, storm.connection_id, _minute(storm.started_at), this_minute
    ) + await repo.count_comments(
        tenant_id, storm.connection_id, this_minute - dt.timedelta(microseconds=1), now
    )
    since = max(storm.started_at, now - POSTS_LOOKBACK)
    posts = await repo.top_posts(
        tenant_id,
        storm.connection_id,
        since,
        now,
        TOP_POSTS,
    )
    storm.posts = [{"post_id": p, "comments": c} for p, c in posts]
