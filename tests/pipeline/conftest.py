"""The pipeline end to end: real Postgres, real Redis, the sandbox as a real HTTP server, webhook
deliveries captured from the sandbox and stored through the inbox service."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text

from service.api.app import create_app
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import store_token
from service.crypto import Cipher
from service.db import Database
from service.inbox.models import InboxEvent
from service.pipeline.context import PipelineConfig, PipelineContext
from service.pipeline.inbox import accept_delivery
from service.platforms.graph import GraphClient
from service.platforms.signatures import SIGNATURE_HEADER
from service.queue import Queue
from service.sandbox import RunningSandbox, SandboxConfig
from service.sandbox.state import AppSubscription
from service.settings import Settings
from service.tenancy.models import Client
from service.workers.jobs import CONTEXT_KEY
from tests.conftest import make_settings
from tests.sandbox.receiver import WebhookReceiver, webhook_receiver

APP_ID = "sandbox-app"
APP_SECRET = "sandbox-secret"
VERIFY_TOKEN = "verify-me"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Overrides the root fixture: a queue of this package's own, so the jobs these tests
    enqueue never reach another package's worker (nor theirs ours)."""
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


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    with RunningSandbox(SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, pages=1)) as running:
        yield running


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver(VERIFY_TOKEN) as r:
        yield r


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox, receiver: WebhookReceiver) -> RunningSandbox:
    """The shared server. Not reset between tests: each test connects a page of its own, so ids
    never repeat and no earlier tenant watches a later test's page."""
    store = sandbox_server.store
    store.clear_faults()
    store.app_subscriptions["page"] = AppSubscription(
        object="page", callback_url=receiver.url, fields=["feed"], verify_token=VERIFY_TOKEN
    )
    return sandbox_server


async def _no_sleep(_: float) -> None:
    return None


@pytest_asyncio.fixture
async def graph(sandbox: RunningSandbox) -> AsyncIterator[GraphClient]:
    async with GraphClient(
        app_id=APP_ID, base_url=sandbox.url, sleep=_no_sleep, max_retries=1
    ) as client:
        yield client


@pytest_asyncio.fixture
async def control(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        yield client


def pipeline_context(
    settings: Settings, db: Database, queue: Queue, graph: GraphClient
) -> PipelineContext:
    return PipelineContext.create(
        settings,
        db,
        queue,
        graph=graph,
        config=PipelineConfig(stale_after_seconds=0, poll_overlap_seconds=0),
    )


@pytest.fixture
def pctx(settings: Settings, db: Database, queue: Queue, graph: GraphClient) -> PipelineContext:
    return pipeline_context(settings, db, queue, graph)


@pytest.fixture
def ctx(pctx: PipelineContext) -> dict[str, Any]:
    """An arq job context, as the worker would pass it."""
    return {CONTEXT_KEY: pctx, "job_try": 1}


class Page(msgspec.Struct, kw_only=True):
    """A sandbox page connected to a tenant, with a post to comment on."""

    tenant_id: TenantId
    client_id: uuid.UUID
    connection_id: uuid.UUID
    page_id: str
    post_id: str
    token: str


async def connect_page(
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    tenant_id: TenantId,
    *,
    client_name: str = "Nordlys Telecom",
    private_channel_url: str | None = None,
    default_language: str | None = "da",
) -> Page:
    store = sandbox.store
    page_id = store.create_page(client_name).id
    store.pages[page_id].subscribed_apps[APP_ID] = ["feed"]
    token = store.new_token("page", user_id=store.user_id, page_id=page_id).value
    post = store.add_post(page_id, "Vi har nye priser fra i dag!", notify=False)
    cipher = Cipher(settings.encryption_keys)
    async with db.unit_of_work(tenant_id) as uow:
        client = Client(
            tenant_id=tenant_id,
            name=f"{client_name} {uuid.uuid4().hex[:6]}",
            country="DK",
            default_language=default_language,
            private_channel_url=private_channel_url,
        )
        uow.session.add(client)
        await uow.session.flush()
        connection = Connection(
            tenant_id=tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id=page_id,
            name=client_name,
            status=ConnectionStatus.ACTIVE,
            tasks=["MODERATE"],
            country="DK",
            default_language=default_language,
        )
        store_token(cipher, connection, token)
        uow.session.add(connection)
        await uow.session.flush()
        result = Page(
            tenant_id=tenant_id,
            client_id=client.id,
            connection_id=connection.id,
            page_id=page_id,
            post_id=post.id,
            token=token,
        )
    return result


_delivered: dict[int, int] = {}


def _more(receiver: WebhookReceiver, seen: int) -> bool:
    return len(receiver.posts) > seen


def delivered_changes(body: bytes) -> list[dict[str, Any]]:
    payload = msgspec.json.decode(body)
    return [c.get("value", {}) for e in payload.get("entry", []) for c in e.get("changes", [])]


async def deliver(
    db: Database,
    settings: Settings,
    receiver: WebhookReceiver,
    object_id: str,
    verb: str = "add",
) -> bytes:
    """Wait for the sandbox's delivery carrying ``verb`` for ``object_id`` and store it through
    the inbox service, exactly as the webhook endpoint does. Deliveries in between (the events
    of a hide, another test's page) are passed over. Returns the body."""
    cipher = Cipher(settings.encryption_keys)

    def wanted(body: bytes) -> bool:
        return any(
            (v.get("comment_id") or v.get("post_id")) == object_id and v.get("verb") == verb
            for v in delivered_changes(body)
        )

    while True:
        seen = _delivered.get(id(receiver), 0)
        arrived = await asyncio.to_thread(
            receiver.wait_for, functools.partial(_more, receiver, seen)
        )
        assert arrived, f"the sandbox did not deliver {verb} of {object_id}"
        post = receiver.posts[seen]
        _delivered[id(receiver)] = seen + 1
        if wanted(post.body):
            await accept_delivery(
                db,
                cipher,
                APP_SECRET,
                post.body,
                post.headers[SIGNATURE_HEADER.lower()],
                secret_key=settings.secret_key,
            )
            return post.body


async def event_ids(db: Database, page: Page) -> list[str]:
    async with db.unit_of_work(page.tenant_id) as uow:
        rows = (
            await uow.session.scalars(
                select(InboxEvent.id)
                .where(InboxEvent.connection_id == page.connection_id)
                .order_by(InboxEvent.id)
            )
        ).all()
    return [str(r) for r in rows]


async def comment_state(control: httpx.AsyncClient, comment_id: str) -> dict[str, Any]:
    response = await control.get(f"/_sandbox/comments/{comment_id}")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def hide_calls(control: httpx.AsyncClient, comment_id: str) -> list[dict[str, Any]]:
    """Hide and unhide requests that reached the sandbox for this comment (any status)."""
    calls = (await control.get("/_sandbox/calls", params={"method": "POST"})).json()
    return [c for c in calls if c["path"].endswith("/" + comment_id) and "is_hidden" in c["params"]]


async def rows_containing(db: Database, needle: str) -> list[str]:
    """Every table the pipeline writes, searched as text (all columns) for ``needle``.

    Binary columns (ciphertexts, hashes) are left out of the text: their hex form contains any
    short run of digits by chance sooner or later, and ciphertext is not where plaintext hides."""
    found = []
    async with db.system_unit_of_work() as uow:
        for table in ("findings", "audit_events", "inbox_events", "moderation_actions"):
            hit = (
                await uow.session.execute(
                    text(
                        f"SELECT count(*) FROM {table} t WHERE "
                        r"regexp_replace(t::text, '\\x[0-9a-f]*', '', 'g') LIKE :n"
                    ),
                    {"n": f"%{needle}%"},
                )
            ).scalar_one()
            if hit:
                found.append(table)
    return found


def _with_pipeline_routes(app: Litestar) -> Litestar:
    from service.api.findings import FindingController
    from service.api.policies import ClientPolicyController, ConnectionPolicyController

    paths = {route.path for route in app.routes}
    for controller in (FindingController, ClientPolicyController, ConnectionPolicyController):
        if controller.path.replace(":uuid", "") not in {p.replace(":uuid", "") for p in paths}:
            app.register(controller)
    return app


@pytest_asyncio.fixture(scope="session")
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with this module's controllers (registered here until the app wires them)."""
    async with AsyncTestClient(app=_with_pipeline_routes(create_app(settings))) as client:
        yield client
