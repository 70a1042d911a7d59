"""Benchmark: the extra cost per comment of response-time and storm bookkeeping.

    .venv/bin/python -m bench.pipeline.responses  # [--comments 4000] [--rounds 4] [--rate 50]
    #                                                  [--ticks 12]

In a fresh database, one tenant and one connection:

1. **Hot path** (what time to hide pays): ``handle_comment`` one comment per unit of work, with
   its commit, as a webhook event is handled, with ``observe_comments`` (the pipeline's hook)
   and with it replaced by a no-op, alternating in ``rounds`` so both see the same machine
   load. Reported: microseconds per comment each way, and the difference.
2. **Tracker** (``track_responses``, a cron, off the hot path): its time over the rows the hot
   path wrote, a tenth of them page replies, per comment.
3. **Tracker as the table grows**: ``ticks`` ticks of 3,750 new rows each (250 comments/s for
   15 s, a tenth of them page replies in their comment's thread) on top of what is there; the
   first and the last tick's time per row, and their ratio. A tick's cost must depend on the
   rows it takes, not on the rows the table holds (it once grew with both: a row-comparison
   list tested every row against every key).
4. **Storm watcher** (``watch_storms``, a cron): one page commented on at ``rate`` comments/s
   for 15 minutes (inserted directly); the time of one tick, and per comment at that rate
   (a tick every 15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import time
import uuid
from typing import Any
from unittest.mock import patch

from sqlalchemy import text

import service.pipeline.comments as pipeline_comments
from bench.pipeline.common import bench_settings, drop_database, fresh_database
from service.apikeys.service import onboard_tenant
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.db import Database
from service.findings.models import FindingSource
from service.logging import configure_logging
from service.pipeline.comments import CommentView, handle_comment
from service.pipeline.context import PipelineContext
from service.queue import Queue
from service.responses.repository import ResponseRepository
from service.responses.service import observe_comments
from service.responses.steps import track_responses
from service.storms.steps import watch_storms
from service.tenancy.models import Client, TenantKind

PAGE = "100000000000001"
# Stands in for the inbox event's status update of the real-time path.
_MARK_DONE = text("UPDATE connections SET updated_at = now() WHERE tenant_id = :t AND id = :c")
TEXTS = (
    "Hvornår kommer mit internet tilbage? Det har været nede siden i går.",
    "Toget var igen forsinket i morges, hvad sker der?",
    "Warum ist meine Rechnung so hoch? Bitte um Rückmeldung.",
    "Miksi laskuni nousi ilman ilmoitusta?",
)


async def _no_observe(*args: Any, **kwargs: Any) -> None:
    return None


async def connect(db: Database) -> tuple[TenantId, Connection]:
    async with db.system_unit_of_work() as uow:
        onboarded = await onboard_tenant(uow, f"bench-{uuid.uuid4().hex[:6]}", TenantKind.COMPANY)
    tenant_id = TenantId(onboarded.tenant_id)
    async with db.unit_of_work(tenant_id) as uow:
        client = Client(tenant_id=tenant_id, name="Bench client", country="DK")
        uow.session.add(client)
        await uow.session.flush()
        connection = Connection(
            tenant_id=tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id=PAGE,
            name="Bench page",
            status=ConnectionStatus.ACTIVE,
            tasks=["MODERATE"],
            country="DK",
        )
        uow.session.add(connection)
    return tenant_id, connection


def comment(i: int, when: dt.datetime) -> CommentView:
    reply = i % 10 == 9
    return CommentView(
        comment_id=f"c{i}",
        post_id="p1",
        parent_id=f"c{i - 1}" if reply else "p1",
        message=TEXTS[i % len(TEXTS)],
        author_id=PAGE if reply else f"5000{i % 997}",
        created_time=when,
        permalink_url=None,
    )


async def hot_path(
    pctx: PipelineContext, tenant_id: TenantId, connection: Connection, ids: range
) -> float:
    """Seconds per comment through handle_comment, one unit of work (and commit) each. Each
    unit of work also updates one row, as ``process_event`` marks its inbox event done in the
    same transaction: the commit is a writing one (WAL flush) with or without the hook."""
    start = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    for i in ids:
        async with pctx.db.unit_of_work(tenant_id) as uow:
            await uow.session.execute(_MARK_DONE, {"t": tenant_id, "c": connection.id})
            await handle_comment(
                pctx,
                uow,
                connection,
                comment(i, start + dt.timedelta(milliseconds=i)),
                source=FindingSource.REALTIME,
                received_at=start,
            )
    return (time.perf_counter() - t0) / len(ids)


async def observe_alone(
    db: Database, tenant_id: TenantId, connection: Connection, batch: int, calls: int, base: int
) -> float:
    """Seconds per comment of ``observe_comments`` alone (its statement, no commit): ``calls``
    calls of ``batch`` comments in one unit of work."""
    start = dt.datetime.now(dt.UTC)
    async with db.unit_of_work(tenant_id) as uow:
        t0 = time.perf_counter()
        for c in range(calls):
            views = [comment(base + c * batch + i, start) for i in range(batch)]
            await observe_comments(uow, connection, views, received_at=start)
        elapsed = time.perf_counter() - t0
    return elapsed / (batch * calls)


def tracked_row(
    tenant_id: TenantId,
    connection: Connection,
    comment_id: str,
    post_id: str | None,
    thread_id: str,
    *,
    by_page: bool,
    commented_at: dt.datetime,
    received_at: dt.datetime,
) -> dict[str, Any]:
    """A ``tracked_comments`` row as ``observe_comments`` writes it, inserted directly."""
    return {
        "tenant_id": tenant_id,
        "connection_id": connection.id,
        "client_id": connection.client_id,
        "comment_id": comment_id,
        "post_id": post_id,
        "thread_id": thread_id,
        "by_page": by_page,
        "commented_at": commented_at,
        "received_at": received_at,
    }


async def tracker_ticks(
    db: Database, tenant_id: TenantId, connection: Connection, ticks: int
) -> list[float]:
    """Seconds per row of each of ``ticks`` tracker ticks, each over 3,750 new rows."""
    per_tick = 3_750
    start = dt.datetime.now(dt.UTC)
    times: list[float] = []
    for k in range(ticks):
        rows = []
        for i in range(k * per_tick, (k + 1) * per_tick):
            view = comment(5_000_000 + i, start + dt.timedelta(milliseconds=4 * i))
            reply = view.author_id == PAGE
            thread = view.parent_id if reply and view.parent_id else view.comment_id
            rows.append(
                tracked_row(
                    tenant_id,
                    connection,
                    view.comment_id,
                    view.post_id,
                    thread,
                    by_page=reply,
                    commented_at=view.created_time or start,
                    received_at=start,
                )
            )
        async with db.unit_of_work(tenant_id) as uow:
            await ResponseRepository(uow.session).insert_new(rows)
        t0 = time.perf_counter()
        tracked = await track_responses(db)
        times.append((time.perf_counter() - t0) / max(tracked.processed, 1))
    return times


async def storm_tick(db: Database, tenant_id: TenantId, connection: Connection, rate: int) -> float:
    now = dt.datetime(2026, 8, 6, 20, 0, tzinfo=dt.UTC)
    total = rate * 15 * 60
    step = dt.timedelta(seconds=1 / rate)
    rows = [
        tracked_row(
            tenant_id,
            connection,
            f"s{i}",
            "p2",
            f"s{i}",
            by_page=False,
            commented_at=now - total * step + i * step,
            received_at=now,
        )
        for i in range(total)
    ]
    async with db.unit_of_work(tenant_id) as uow:
        await ResponseRepository(uow.session).insert_new(rows)
    await watch_storms(db, now=now - dt.timedelta(minutes=1))  # first sight: counts history
    times = []
    for k in range(5):
        t0 = time.perf_counter()
        await watch_storms(db, now=now + dt.timedelta(seconds=15 * k))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def bench(comments: int, rounds: int, rate: int, ticks: int = 12) -> dict[str, Any]:
    name = f"wallguard_bench_responses_{os.getpid()}"
    database_url = await fresh_database(name)
    settings = bench_settings(database_url)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    db = Database(settings, queue)
    pctx = PipelineContext.create(settings, db, queue)
    try:
        tenant_id, connection = await connect(db)
        await hot_path(pctx, tenant_id, connection, range(1_000_000, 1_000_200))  # warm up
        with_hook: list[float] = []
        without: list[float] = []
        per_round = comments // rounds
        for r in range(rounds):
            base = r * 2 * per_round
            with_hook.append(
                await hot_path(pctx, tenant_id, connection, range(base, base + per_round))
            )
            # The pipeline without its hook: the same path, observe_comments a no-op.
            with patch.object(pipeline_comments, "observe_comments", _no_observe):
                ids = range(base + per_round, base + 2 * per_round)
                without.append(await hot_path(pctx, tenant_id, connection, ids))
        single = await observe_alone(db, tenant_id, connection, 1, 500, 2_000_000)
        batched = await observe_alone(db, tenant_id, connection, 100, 20, 3_000_000)
        t0 = time.perf_counter()
        tracked = await track_responses(db)
        tracker = (time.perf_counter() - t0) / max(tracked.processed, 1)
        growing = await tracker_ticks(db, tenant_id, connection, ticks)
        tick = await storm_tick(db, tenant_id, connection, rate)
        hot_with, hot_without = statistics.median(with_hook), statistics.median(without)
        return {
            "comments_per_variant": per_round * rounds,
            "hot_path_us_with_bookkeeping": round(hot_with * 1e6, 1),
            "hot_path_us_without": round(hot_without * 1e6, 1),
            "extra_us_per_comment": round((hot_with - hot_without) * 1e6, 1),
            "extra_share": round(hot_with / hot_without - 1, 3),
            "observe_us_per_comment_one_by_one": round(single * 1e6, 1),
            "observe_us_per_comment_in_100s": round(batched * 1e6, 1),
            "tracker_rows": tracked.processed,
            "tracker_us_per_comment": round(tracker * 1e6, 1),
            "tracker_ticks_of_3750_rows": ticks,
            "tracker_us_per_row_first_tick": round(growing[0] * 1e6, 1),
            "tracker_us_per_row_last_tick": round(growing[-1] * 1e6, 1),
            "tracker_last_over_first": round(growing[-1] / growing[0], 2),
            "storm_tick_ms_at_rate": round(tick * 1e3, 1),
            "storm_us_per_comment_at_rate": round(tick / (rate * 15) * 1e6, 1),
            "rate_per_second": rate,
        }
    finally:
        await pctx.close()
        await db.dispose()
        await queue.close()
        await drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--comments", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=12)
    args = parser.parse_args()
    configure_logging("WARNING", False)
    result = asyncio.run(bench(args.comments, args.rounds, args.rate, args.ticks))
    for key, value in result.items():
        print(f"{key:34} {value}")


if __name__ == "__main__":
    main()
