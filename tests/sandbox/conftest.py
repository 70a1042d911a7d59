"""A real sandbox server (uvicorn in a thread) and a webhook receiver for e2e tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from service.platforms.graph import GraphClient
from service.sandbox import RunningSandbox, SandboxConfig
from tests.sandbox.receiver import WebhookReceiver
from tests.sandbox.receiver import webhook_receiver as serve_receiver

APP_ID = "sandbox-app"
APP_SECRET = "sandbox-secret"
VERIFY_TOKEN = "verify-me"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    config = SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, pages=2)
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox) -> RunningSandbox:
    """The shared server, reset to its configured start for each test."""
    store = sandbox_server.store
    store.reset()
    store.webhook_max_batch = sandbox_server.config.webhook_max_batch
    store.webhook_max_attempts = sandbox_server.config.webhook_max_attempts
    return sandbox_server


async def _no_sleep(_: float) -> None:
    return None


@pytest_asyncio.fixture
async def graph(sandbox: RunningSandbox) -> AsyncIterator[GraphClient]:
    """A GraphClient on the sandbox that never really sleeps (backoff, throttling)."""
    async with GraphClient(
        app_id=APP_ID, app_secret=APP_SECRET, base_url=sandbox.url, sleep=_no_sleep
    ) as client:
        yield client


@pytest_asyncio.fixture
async def control(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP client on the sandbox, for /_sandbox control endpoints and raw Graph calls."""
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        yield client


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with serve_receiver(VERIFY_TOKEN) as receiver:
        yield receiver
