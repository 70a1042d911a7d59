"""Outbound webhooks against real PostgreSQL, real Redis, a real arq worker and real HTTP
receivers on loopback that verify every request with `standardwebhooks`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.auth.types import TenantId
from service.connections.models import Connection, Platform
from service.db import Database
from service.queue import JobName, Queue
from service.settings import Settings
from service.tenancy.models import Client
from service.webhooks.delivery import DeliveryConfig, WebhookSender
from service.webhooks.receiver import WebhookListener
from service.workers import jobs as worker_jobs
from service.workers import webhooks_context
from tests.conftest import MakeTenant, TenantHandle, make_settings
from tests.helpers import drain, draining_worker

# The documented schedule, shortened: every retry waits 50 ms.
FAST = DeliveryConfig(
    schedule=(0, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05),
    jitter=0,
    stale_after=dt.timedelta(0),
)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """A queue of this package's own (see tests/pipeline/conftest.py)."""
    return make_settings(database_url)


@pytest_asyncio.fixture(scope="session")
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    q = await Queue.connect(settings.redis_url, settings.queue_name)
    yield q
    await q.redis.delete(settings.queue_name)
    await q.close()


@pytest_asyncio.fixture(scope="session")
async def db(settings: Settings, queue: Queue) -> AsyncIterator[Database]:
    database = Database(settings, queue)
    yield database
    await database.dispose()


@pytest_asyncio.fixture(scope="session")
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


RunWorker = Callable[..., Coroutine[Any, Any, Any]]


@pytest.fixture
def run_worker(settings: Settings, db: Database, queue: Queue) -> RunWorker:
    """Runs a real arq worker with the webhook jobs until the queue (deferred retries
    included) is empty."""

    async def _run(config: DeliveryConfig = FAST, sender: WebhookSender | None = None) -> Any:
        async def startup(ctx: dict[str, Any]) -> None:
            ctx.update(settings=settings, db=db, queue=queue, webhook_config=config)
            if sender is not None:
                ctx["webhook_sender"] = sender
            await webhooks_context.webhooks_startup(ctx)

        deliver = [f for f in worker_jobs.FUNCTIONS if f.name == JobName.DELIVER_WEBHOOKS.value]
        return await drain(
            draining_worker(settings, deliver, startup, webhooks_context.webhooks_shutdown)
        )

    return _run


class Page(msgspec.Struct):
    tenant: TenantHandle
    client_id: uuid.UUID
    connection_id: uuid.UUID

    @property
    def tenant_id(self) -> TenantId:
        return self.tenant.tenant_id


MakePage = Callable[..., Awaitable[Page]]


@pytest.fixture
def make_page(db: Database, make_tenant: MakeTenant) -> MakePage:
    """A tenant (or the given one) with a client and a connected Facebook page."""

    async def _make(tenant: TenantHandle | None = None) -> Page:
        tenant = tenant or await make_tenant()
        async with db.unit_of_work(tenant.tenant_id) as uow:
            client = Client(tenant_id=tenant.tenant_id, name=f"client-{uuid.uuid4().hex[:8]}")
            uow.session.add(client)
            await uow.session.flush()
            connection = Connection(
                tenant_id=tenant.tenant_id,
                client_id=client.id,
                platform=Platform.FACEBOOK,
                external_id=uuid.uuid4().hex[:16],
                name="Nordlys Telecom",
                tasks=["MODERATE"],
            )
            uow.session.add(connection)
            await uow.session.flush()
        return Page(tenant=tenant, client_id=client.id, connection_id=connection.id)

    return _make


@pytest.fixture
def listener() -> Iterator[Callable[..., WebhookListener]]:
    """Receivers started for a test and stopped after it."""
    started: list[WebhookListener] = []

    def _start(*secrets: str, **options: Any) -> WebhookListener:
        receiver = WebhookListener(secrets=list(secrets), **options).start()
        started.append(receiver)
        return receiver

    yield _start
    for receiver in started:
        receiver.stop()


async def create_endpoint(
    api: AsyncTestClient[Litestar],
    tenant: TenantHandle,
    url: str,
    **body: Any,
) -> dict[str, Any]:
    r = await api.post("/v1/webhook-endpoints", json={"url": url, **body}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created
