"""Postgres is the record: losing Redis, or a worker dying mid-job, loses nothing.

These tests run a private redis-server on a port of their own (the shared one is never touched),
restart it to lose every queued job, and run a real arq worker in burst mode."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from arq.worker import Worker
from redis.asyncio import Redis
from sqlalchemy import select

from service.apikeys.service import onboard_tenant
from service.auth.types import TenantId
from service.connections.models import Connection
from service.db import Database, utcnow
from service.findings.models import Finding, FindingSource, FindingStatus
from service.inbox.models import InboxEvent, InboxStatus
from service.moderation.models import ActionStatus, ModerationAction
from service.pipeline import reconcile
from service.pipeline.actions import perform_pending_actions
from service.pipeline.comments import CommentView, handle_comment
from service.pipeline.context import PipelineConfig, PipelineContext
from service.platforms.graph import GraphClient
from service.queue import Queue
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.tenancy.models import TenantKind
from service.workers import jobs
from service.workers.main import pipeline_shutdown, pipeline_startup
from tests.conftest import make_settings
from tests.helpers import drain, draining_worker, free_port
from tests.pipeline.conftest import comment_state, connect_page, deliver, hide_calls
from tests.sandbox.receiver import WebhookReceiver

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

LEAKY = "Kan I ikke bare ringe til mig på 40 52 37 46? Det er tredje gang jeg skriver."


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart loses everything."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        self._spawn()
        client = Redis.from_url(self.url)
        try:
            for _ in range(200):
                try:
                    if await client.ping():
                        return
                except Exception:
                    await asyncio.sleep(0.02)
            raise RuntimeError("the private redis-server did not start")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    async def restart(self) -> None:
        self.stop()
        await self.start()


@pytest_asyncio.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    redis = PrivateRedis()
    await redis.start()
    try:
        yield redis
    finally:
        redis.stop()


async def run_worker(settings: Settings, db: Database, queue: Queue, graph: GraphClient) -> Worker:
    """A real arq worker with the pipeline's jobs, until the queue is empty."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(
            settings=settings,
            db=db,
            queue=queue,
            pipeline_graph=graph,
            pipeline_config=PipelineConfig(stale_after_seconds=0),
        )
        await pipeline_startup(ctx)

    worker: Worker = await drain(
        draining_worker(settings, jobs.FUNCTIONS, startup, pipeline_shutdown)
    )
    return worker


async def test_a_redis_restart_between_commit_and_run_loses_nothing(
    private_redis: PrivateRedis,
    database_url: str,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    graph: GraphClient,
) -> None:
    settings = make_settings(database_url, REDIS_URL=private_redis.url)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    db = Database(settings, queue)
    try:
        async with db.system_unit_of_work() as uow:
            onboarded = await onboard_tenant(uow, "Restart A/S", TenantKind.AGENCY)
        tenant_id = TenantId(onboarded.tenant_id)
        page = await connect_page(db, settings, sandbox, tenant_id)
        node = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Karen Kunde")
        await deliver(db, settings, receiver, node.id)  # stored, committed, and enqueued
        assert await queue.redis.zcard(settings.queue_name) == 1

        await private_redis.restart()  # the queued job is gone
        await queue.close()
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        db.queue = queue
        assert await queue.redis.zcard(settings.queue_name) == 0

        pctx = PipelineContext.create(
            settings, db, queue, graph=graph, config=PipelineConfig(stale_after_seconds=0)
        )
        assert await reconcile.reconcile_once(pctx, tenant_id=tenant_id) == 1
        # Sending again while the job waits in the queue is a no-op.
        assert await reconcile.reconcile_once(pctx, tenant_id=tenant_id) == 0

        worker = await run_worker(settings, db, queue, graph)
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0

        state = await comment_state(control, node.id)
        assert state["is_hidden"] is True and state["hide_calls"] == 1
        assert len(await hide_calls(control, node.id)) == 1
        async with db.unit_of_work(tenant_id) as uow:
            event = (await uow.session.scalars(select(InboxEvent))).one()
            finding = (await uow.session.scalars(select(Finding))).one()
        assert event.status is InboxStatus.DONE
        assert finding.status is FindingStatus.HIDDEN
        # Nothing is left to reconcile.
        assert await reconcile.reconcile_once(pctx, tenant_id=tenant_id) == 0
    finally:
        await db.dispose()
        await queue.close()


async def test_an_action_left_pending_by_a_dead_worker_is_performed_once(
    private_redis: PrivateRedis,
    database_url: str,
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    graph: GraphClient,
) -> None:
    """A worker hid the comment and died before recording it: the retry reads the platform,
    sees the comment hidden, and records it without hiding again."""
    settings = make_settings(database_url, REDIS_URL=private_redis.url)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    db = Database(settings, queue)
    try:
        async with db.system_unit_of_work() as uow:
            onboarded = await onboard_tenant(uow, "Crash ApS", TenantKind.AGENCY)
        tenant_id = TenantId(onboarded.tenant_id)
        page = await connect_page(db, settings, sandbox, tenant_id)
        hidden = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Ib", notify=False)
        waiting = sandbox.store.add_comment(
            page.post_id, LEAKY + " !", author_name="Bo", notify=False
        )
        pctx = PipelineContext.create(
            settings, db, queue, graph=graph, config=PipelineConfig(stale_after_seconds=0)
        )
        async with db.unit_of_work(tenant_id) as uow:
            connection = await uow.session.get(Connection, (tenant_id, page.connection_id))
            assert connection is not None
            for node in (hidden, waiting):
                outcome = await handle_comment(
                    pctx,
                    uow,
                    connection,
                    CommentView(
                        comment_id=node.id,
                        post_id=page.post_id,
                        parent_id=page.post_id,
                        message=node.message,
                        author_id=node.from_id,
                        created_time=utcnow(),
                        permalink_url=None,
                    ),
                    source=FindingSource.SCAN,
                    received_at=utcnow(),
                )
                assert outcome.new and outcome.acted and len(outcome.action_ids) == 1
        # The dead worker's hide reached the platform; its commit did not.
        sandbox.store.set_hidden(hidden.id, True)

        assert await reconcile.reconcile_once(pctx, tenant_id=tenant_id) == 2
        worker = await run_worker(settings, db, queue, graph)
        assert worker.jobs_complete == 2 and worker.jobs_failed == 0

        assert (await comment_state(control, hidden.id))["hide_calls"] == 1  # only the crash's
        assert await hide_calls(control, hidden.id) == []
        assert (await comment_state(control, waiting.id))["hide_calls"] == 1
        async with db.unit_of_work(tenant_id) as uow:
            statuses = set((await uow.session.scalars(select(ModerationAction.status))).all())
            findings = (await uow.session.scalars(select(Finding.status))).all()
        assert statuses == {ActionStatus.DONE}
        assert set(findings) == {FindingStatus.HIDDEN}
        # And the shared entry point, run again, finds nothing to do.
        assert await perform_pending_actions(pctx, tenant_id, []) == []
    finally:
        await db.dispose()
        await queue.close()
