"""Benchmark: a backfill scan of a large page, end to end.

    .venv/bin/python -m bench.pipeline.backfill [--posts 1000] [--comments 100] [--personal 0.2]

A sandbox process is seeded with ``posts`` x ``comments`` comments (``personal`` of them with
personal data, no replies); a fresh database gets a tenant and a connection on that page; a scan
is created through ScanService (as `POST /v1/scans` does) and ONE in-process arq worker runs it
(`run_scan` and its continuations) until the scan completes. Reported: comments/s over the scan's
own started_at..finished_at, wall time, and that every detected comment was hidden exactly once
(the sandbox's own record).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from typing import Any

import httpx
from arq.worker import Worker, func

from bench.pipeline.common import (
    Sandbox,
    bench_settings,
    drop_database,
    fresh_database,
    print_result,
    tenant_with_page,
)
from service.auth.types import Principal, Scope
from service.db import Database
from service.logging import configure_logging
from service.pipeline.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES
from service.queue import JobName, Queue, redis_settings
from service.scanning.models import Scan
from service.scanning.schemas import ScanCreate
from service.scanning.service import ScanService
from service.workers.jobs import run_scan
from service.workers.main import pipeline_shutdown, pipeline_startup


async def bench(posts: int, comments: int, personal: float, keep: bool) -> dict[str, Any]:
    name = f"wallguard_bench_{os.getpid()}"
    database_url = await fresh_database(name)
    sandbox = Sandbox()
    try:
        page_id = sandbox.first_page()
        t0 = time.perf_counter()
        control = httpx.AsyncClient(base_url=sandbox.url, timeout=600)
        seeded = (
            await control.post(
                "/_sandbox/seed",
                json={
                    "seed": 7,
                    "page_ids": [page_id],
                    "posts_per_page": posts,
                    "comments_per_post": comments,
                    "personal_ratio": personal,
                    "reply_ratio": 0,
                    "ig_media_per_account": 0,
                },
            )
        ).json()
        seed_seconds = time.perf_counter() - t0
        settings = bench_settings(database_url, META_GRAPH_URL=sandbox.url)
        configure_logging(settings.log_level, settings.log_json)
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        db = Database(settings, queue)
        try:
            tenant = await tenant_with_page(db, settings, sandbox, page_id)
            principal = Principal(
                tenant_id=tenant.tenant_id, api_key_id=uuid.uuid4(), scopes=frozenset({Scope.ADMIN})
            )
            async with db.unit_of_work(tenant.tenant_id) as uow:
                created = await ScanService(uow).create(
                    principal, ScanCreate(connection_id=tenant.connection_id)
                )

            async def startup(ctx: dict[str, Any]) -> None:
                ctx.update(settings=settings, db=db, queue=queue)
                await pipeline_startup(ctx)

            worker = Worker(
                functions=[
                    func(
                        run_scan,
                        name=JobName.RUN_SCAN.value,
                        timeout=SCAN_JOB_TIMEOUT,
                        max_tries=SCAN_MAX_TRIES,
                    )
                ],
                queue_name=settings.queue_name,
                redis_settings=redis_settings(settings.redis_url),
                on_startup=startup,
                on_shutdown=pipeline_shutdown,
                burst=True,
                poll_delay=settings.worker_poll_delay,
                handle_signals=False,
            )
            w0 = time.perf_counter()
            try:
                await worker.main()
            finally:
                await worker.close()
            wall = time.perf_counter() - w0
            async with db.unit_of_work(tenant.tenant_id) as uow:
                scan = await uow.session.get(Scan, (tenant.tenant_id, created.id))
                assert scan is not None
            hidden = (await control.get("/_sandbox/hidden", params={"page_id": page_id})).json()
            hide_calls = [c["hide_calls"] for c in hidden]
            assert scan.started_at is not None
            assert scan.finished_at is not None
            seconds = (scan.finished_at - scan.started_at).total_seconds()
            return {
                "posts": seeded["posts"],
                "comments": seeded["comments"],
                "seeded_personal": seeded["personal"],
                "seed_seconds": round(seed_seconds, 1),
                "status": scan.status.value,
                "comments_scanned": scan.comments_scanned,
                "posts_scanned": scan.posts_scanned,
                "findings": scan.findings,
                "hidden": scan.hidden,
                "errors": scan.errors,
                "hidden_on_platform": len(hidden),
                "max_hide_calls_per_comment": max(hide_calls, default=0),
                "scan_seconds": round(seconds, 1),
                "worker_wall_seconds": round(wall, 1),
                "comments_per_second": round(scan.comments_scanned / seconds),
                "jobs": worker.jobs_complete,
            }
        finally:
            await db.dispose()
            await control.aclose()
            await queue.redis.delete(settings.queue_name)
            await queue.close()
    finally:
        sandbox.stop()
        if not keep:
            await drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=100)
    parser.add_argument("--personal", type=float, default=0.2)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    print_result(asyncio.run(bench(args.posts, args.comments, args.personal, args.keep)))


if __name__ == "__main__":
    main()
