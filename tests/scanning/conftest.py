"""Scan tests run on a queue of their own (``settings``/``queue``/``db`` are overridden here):
other tests run burst workers on the session's queue and must not meet a `run_scan` job."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.db import Database
from service.queue import Queue
from service.sandbox import RunningSandbox, SandboxConfig
from service.settings import Settings
from tests.conftest import make_settings
from tests.scanning.support import APP_ID, APP_SECRET, with_issue_controllers, worker_context


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    config = SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, pages=1, link_instagram=False)
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="module")
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    q = await Queue.connect(settings.redis_url, settings.queue_name)
    yield q
    await q.redis.delete(settings.queue_name)
    await q.close()


@pytest.fixture(scope="module")
async def db(settings: Settings, queue: Queue) -> AsyncIterator[Database]:
    database = Database(settings, queue)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = with_issue_controllers(create_app(settings))
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def ctx(
    settings: Settings, db: Database, queue: Queue, sandbox: RunningSandbox
) -> AsyncIterator[dict[str, Any]]:
    async with worker_context(settings, db, queue, sandbox) as context:
        yield context
