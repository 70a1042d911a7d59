"""Scans that are cancelled, killed, rate limited, refused or met by a platform outage: each
stops cleanly and resumes from its checkpoint, hiding every comment once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq.worker import Retry, Worker, func
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.auth.types import Principal, Scope, TenantId
from service.connections.models import Connection, ConnectionStatus
from service.db import Database
from service.moderation.models import ActionStatus, ModerationAction
from service.pipeline.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES
from service.platforms.limits import MemoryLimits
from service.queue import JobName, Queue
from service.sandbox import RunningSandbox
from service.scanning.models import ScanStatus
from service.scanning.service import ScanService
from service.settings import Settings
from service.workers.jobs import CONTEXT_KEY, execute_action, reconcile_scans, run_scan
from service.workers.main import pipeline_shutdown, pipeline_startup
from tests.conftest import MakeTenant, TenantHandle
from tests.helpers import draining_worker
from tests.scanning.support import (
    APP_ID,
    APP_SECRET,
    comment_ids,
    connect_page,
    findings_of,
    hide_calls,
    load_scan,
    new_sandbox_page,
    personal_comment_ids,
    reauthorise,
    sandbox_graph,
    seed_page,
)

Client = AsyncTestClient[Litestar]
NOW = dt.timedelta(0)

PERSONAL = [
    "Skriv til mette.kjaergaard77@gmail.com, jeg kan ikke logge ind.",
    "Send svar til kari.haugland42@online.no.",
    "Email me at emma.ashworth55@outlook.com, the chat keeps crashing.",
    "Maila mig på annika.ekdahl31@telia.com istället.",
]


async def control(sandbox: RunningSandbox, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.request(method, path, **kw)
        response.raise_for_status()
        return response.json() if response.content else None


async def fault(sandbox: RunningSandbox, **body: Any) -> None:
    await control(sandbox, "POST", "/_sandbox/faults", json=body)


async def scan_for(api: Client, tenant: TenantHandle, connection: Connection) -> uuid.UUID:
    response = await api.post(
        "/v1/scans", json={"connection_id": str(connection.id)}, headers=tenant.headers
    )
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["id"])


async def quiet_page(sandbox: RunningSandbox, posts: int = 30) -> tuple[str, set[str]]:
    """Posts of innocent comments, and comments with e-mail addresses under the OLDEST post only:
    the feed is walked newest first, so every call before the last post's hides is a read, and
    a fault placed after a few calls always meets the walk, never a hide."""
    page_id = await new_sandbox_page(sandbox)
    await seed_page(
        sandbox, page_id, seed=21, posts_per_page=posts, comments_per_post=5, personal_ratio=0
    )
    oldest = min(
        (n for n in sandbox.store.nodes.values() if n.page_id == page_id and n.kind == "post"),
        key=lambda n: n.sort_key,
    )
    pii = {
        sandbox.store.add_comment(oldest.id, text, author_name=f"Kunde {i}", notify=False).id
        for i, text in enumerate(PERSONAL)
    }
    return page_id, pii


def admin(tenant: TenantHandle) -> Principal:
    return Principal(
        tenant_id=tenant.tenant_id, api_key_id=uuid.uuid4(), scopes=frozenset({Scope.ADMIN})
    )


def assert_hidden_once(sandbox: RunningSandbox, page_id: str, pii: set[str]) -> None:
    calls = hide_calls(sandbox, page_id)
    assert {c for c, n in calls.items() if n} == pii
    assert all(calls[c] == 1 for c in pii)


# --- cancel --------------------------------------------------------------------------------


async def test_cancel_a_pending_scan_then_the_job_does_nothing(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    await seed_page(sandbox, page_id, seed=2, posts_per_page=3, comments_per_post=3)
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    scan_id = await scan_for(api, tenant, connection)
    cancelled = await api.post(f"/v1/scans/{scan_id}/cancel", headers=tenant.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    again = await api.post(f"/v1/scans/{scan_id}/cancel", headers=tenant.headers)
    assert again.status_code == 409
    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "cancelled"
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.comments_scanned == 0 and scan.started_at is None
    # The connection is free for a new scan.
    assert (await scan_for(api, tenant, connection)) != scan_id


async def test_cancel_stops_a_running_scan_between_pages(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    await seed_page(sandbox, page_id, seed=6, posts_per_page=60, comments_per_post=4)
    total = len(comment_ids(sandbox, page_id))
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    scan_id = await scan_for(api, tenant, connection)
    # Every platform call takes a while, so the scan is certainly still running when cancelled.
    await fault(sandbox, kind="latency", page_id=page_id, latency_ms=40)
    job = asyncio.create_task(run_scan(ctx, str(tenant.tenant_id), str(scan_id)))
    try:
        for _ in range(1000):
            scan = await load_scan(db, tenant.tenant_id, scan_id)
            if scan.comments_scanned > 0:
                break
            await asyncio.sleep(0.02)
        # Through the service, in this event loop: the test client's requests block the
        # thread (a portal call), which would freeze the scan task mid-transaction.
        async with db.unit_of_work(tenant.tenant_id) as uow:
            cancelled = await ScanService(uow).cancel(admin(tenant), scan_id)
        assert cancelled.status is ScanStatus.CANCELLED
        assert await job == "cancelled"
    finally:
        await control(sandbox, "DELETE", "/_sandbox/faults")
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.status is ScanStatus.CANCELLED
    assert 0 < scan.comments_scanned < total
    shown = (await api.get(f"/v1/scans/{scan_id}", headers=tenant.headers)).json()
    assert shown["status"] == "cancelled"
    assert shown["comments_scanned"] == scan.comments_scanned


async def test_one_active_scan_per_connection(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    await scan_for(api, tenant, connection)
    second = await api.post(
        "/v1/scans", json={"connection_id": str(connection.id)}, headers=tenant.headers
    )
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    unknown = await api.post(
        "/v1/scans", json={"connection_id": str(uuid.uuid4())}, headers=tenant.headers
    )
    assert unknown.status_code == 404


# --- a worker killed mid-scan --------------------------------------------------------------


@pytest.fixture
async def burst_worker(
    settings: Settings, db: Database, queue: Queue, sandbox: RunningSandbox
) -> AsyncIterator[Worker]:
    """An in-process worker that runs what is queued and stops."""
    graph = sandbox_graph(sandbox)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(settings=settings, db=db, queue=queue, pipeline_graph=graph)
        await pipeline_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await pipeline_shutdown(ctx)

    scan_job = func(
        run_scan, name=JobName.RUN_SCAN.value, timeout=SCAN_JOB_TIMEOUT, max_tries=SCAN_MAX_TRIES
    )
    worker: Worker = draining_worker(settings, [scan_job], startup, shutdown)
    try:
        yield worker
    finally:
        await worker.close()
        await graph.aclose()


async def test_a_killed_worker_resumes_from_the_checkpoint_and_hides_each_comment_once(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
    burst_worker: Worker,
    queue: Queue,
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    await seed_page(
        sandbox, page_id, seed=8, posts_per_page=60, comments_per_post=30, personal_ratio=0.3
    )
    everything = comment_ids(sandbox, page_id)
    pii = personal_comment_ids(sandbox, page_id)
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    await fault(sandbox, kind="latency", page_id=page_id, latency_ms=15)
    # The API queues the job; a real worker process takes it.
    await queue.redis.delete(settings.queue_name)  # earlier tests' jobs
    scan_id = await scan_for(api, tenant, connection)
    env = {
        **os.environ,
        "WALLGUARD_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "WALLGUARD_QUEUE_NAME": settings.queue_name,
        "META_APP_ID": APP_ID,
        "META_APP_SECRET": APP_SECRET,
        "META_GRAPH_URL": sandbox.url,
        "WALLGUARD_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.scanning.worker_main",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(3000):
            scan = await load_scan(db, tenant.tenant_id, scan_id)
            if scan.comments_scanned >= 300 or process.returncode is not None:
                break
            await asyncio.sleep(0.02)
        assert process.returncode is None, "the worker process exited on its own"
        process.send_signal(signal.SIGKILL)
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await control(sandbox, "DELETE", "/_sandbox/faults")

    killed = await load_scan(db, tenant.tenant_id, scan_id)
    assert killed.status is ScanStatus.RUNNING
    assert 300 <= killed.comments_scanned < len(everything)
    assert killed.checkpoint.get("post_id") or killed.checkpoint.get("feed_cursor")

    # The killed job stays "in progress" in Redis until arq's own timeout; as if Redis had
    # lost it, only the reconcile cron can bring the scan back.
    await queue.redis.delete(settings.queue_name)
    # Not stale yet by the default measure; stale once we say so.
    assert str(scan_id) not in await reconcile_scans(ctx)
    assert str(scan_id) in await reconcile_scans(ctx, stale_after=NOW)
    assert (await load_scan(db, tenant.tenant_id, scan_id)).status is ScanStatus.RUNNING
    await burst_worker.main()
    # (It also runs what the cron sent for other tests' abandoned scans.)
    assert burst_worker.jobs_complete >= 1
    assert burst_worker.jobs_failed == 0

    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.status is ScanStatus.COMPLETED
    # Counts and checkpoint moved in one transaction: nothing counted twice, nothing missed.
    assert scan.comments_scanned == len(everything)
    assert scan.posts_scanned == 60
    assert scan.findings == len(pii)
    assert scan.hidden == len(pii)
    findings = await findings_of(db, tenant.tenant_id, connection.id)
    assert sorted(f.comment_id for f in findings) == sorted(pii)
    assert_hidden_once(sandbox, page_id, pii)


# --- platform faults mid-scan --------------------------------------------------------------


async def test_rate_limit_waits_and_resumes_from_the_checkpoint(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id, pii = await quiet_page(sandbox)
    total = len(comment_ids(sandbox, page_id))
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    scan_id = await scan_for(api, tenant, connection)
    await fault(
        sandbox,
        kind="rate_limit",
        page_id=page_id,
        code=32,
        after_calls=10,
        count=1,
        regain_minutes=2,
    )
    with pytest.raises(Retry) as retry:
        await run_scan(ctx, str(tenant.tenant_id), str(scan_id))
    assert retry.value.defer_score == 120_000  # Meta's estimate: 2 minutes
    waiting = await load_scan(db, tenant.tenant_id, scan_id)
    assert waiting.status is ScanStatus.WAITING
    assert "Rate limited" in (waiting.last_error or "")
    assert 0 < waiting.comments_scanned < total
    assert "wait_until" in waiting.checkpoint
    shown = (await api.get(f"/v1/scans/{scan_id}", headers=tenant.headers)).json()
    assert shown["status"] == "waiting" and "Rate limited" in shown["last_error"]
    # arq's retry is deferred: the reconcile cron leaves the scan to it.
    assert str(scan_id) not in await reconcile_scans(ctx, stale_after=NOW)

    # arq runs the job again after the deferral (the wait every Graph caller honours is over).
    ctx[CONTEXT_KEY].graph.limits = MemoryLimits()
    assert await run_scan({**ctx, "job_try": 2}, str(tenant.tenant_id), str(scan_id)) == (
        "completed"
    )
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.status is ScanStatus.COMPLETED
    assert scan.comments_scanned == total
    assert scan.findings == scan.hidden == len(pii)
    assert_hidden_once(sandbox, page_id, pii)


async def test_hides_rate_limited_in_a_batch_are_retried_once_and_still_counted_by_the_scan(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id, pii = await quiet_page(sandbox)
    total = len(comment_ids(sandbox, page_id))
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    scan_id = await scan_for(api, tenant, connection)
    # The four hides go to Graph as one batch; two of its operations meet the page's limit.
    await fault(
        sandbox, kind="rate_limit", page_id=page_id, code=32, method="POST", after_calls=1, count=2
    )

    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "completed"
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert (scan.comments_scanned, scan.findings, scan.hidden) == (total, len(pii), len(pii) - 2)
    async with db.unit_of_work(tenant.tenant_id) as uow:
        waiting = (
            await uow.session.scalars(
                select(ModerationAction).where(
                    ModerationAction.connection_id == connection.id,
                    ModerationAction.status == ActionStatus.PENDING,
                )
            )
        ).all()
    assert len(waiting) == 2
    assert all("RateLimited" in (a.last_error or "") for a in waiting)

    # Their deferred jobs run after the wait (the scan has ended by then).
    await control(sandbox, "DELETE", "/_sandbox/faults")
    for action in waiting:
        assert await execute_action(ctx, str(tenant.tenant_id), str(action.id)) == "done"
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.findings == scan.hidden == len(pii)
    assert_hidden_once(sandbox, page_id, pii)
    shown = (await api.get(f"/v1/scans/{scan_id}", headers=tenant.headers)).json()
    assert shown["hidden"] == shown["findings"] == len(pii)


async def test_platform_outage_is_retried_with_backoff(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id, pii = await quiet_page(sandbox)
    total = len(comment_ids(sandbox, page_id))
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    scan_id = await scan_for(api, tenant, connection)
    # One 500 is absorbed by the client's retry; then two 503s in a row outlast it.
    await fault(sandbox, kind="server_error", page_id=page_id, after_calls=3, count=1)
    await fault(
        sandbox, kind="server_error", page_id=page_id, http_status=503, after_calls=12, count=2
    )
    with pytest.raises(Retry) as retry:
        await run_scan(ctx, str(tenant.tenant_id), str(scan_id))
    assert retry.value.defer_score == 15_000
    waiting = await load_scan(db, tenant.tenant_id, scan_id)
    assert waiting.status is ScanStatus.WAITING
    assert waiting.errors == 1
    assert "unavailable" in (waiting.last_error or "")

    assert await run_scan({**ctx, "job_try": 2}, str(tenant.tenant_id), str(scan_id)) == (
        "completed"
    )
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.comments_scanned == total
    assert scan.findings == scan.hidden == len(pii)
    assert_hidden_once(sandbox, page_id, pii)


async def test_a_refused_token_parks_the_scan_until_the_page_is_reauthorised(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
    queue: Queue,
) -> None:
    tenant = await make_tenant()
    page_id, pii = await quiet_page(sandbox)
    total = len(comment_ids(sandbox, page_id))
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    scan_id = await scan_for(api, tenant, connection)
    await fault(sandbox, kind="expire_token", page_id=page_id, after_calls=10, count=1)
    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "waiting"
    waiting = await load_scan(db, tenant.tenant_id, scan_id)
    assert waiting.status is ScanStatus.WAITING
    assert "re-authorise" in (waiting.last_error or "")
    assert 0 < waiting.comments_scanned < total
    async with db.unit_of_work(tenant.tenant_id) as uow:
        conn = await uow.session.get(Connection, (tenant.tenant_id, connection.id))
        assert conn is not None and conn.status is ConnectionStatus.NEEDS_REAUTH
    # Running the job again while the page still needs re-authorisation changes nothing.
    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "waiting"
    assert str(scan_id) not in await reconcile_scans(ctx, stale_after=NOW)

    await reauthorise(db, settings, TenantId(tenant.tenant_id), sandbox, connection.id)
    assert str(scan_id) in await reconcile_scans(ctx, stale_after=NOW)
    assert (await load_scan(db, tenant.tenant_id, scan_id)).status is ScanStatus.PENDING
    queued = await queue.redis.zrange(settings.queue_name, 0, -1)
    assert any(str(scan_id) in job_id.decode() for job_id in queued)

    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "completed"
    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.comments_scanned == total
    assert scan.findings == scan.hidden == len(pii)
    assert_hidden_once(sandbox, page_id, pii)
