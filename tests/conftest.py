"""Test infrastructure: a real PostgreSQL database built by `alembic upgrade head`, real Redis.

Each test session gets its own database (dropped afterwards) and its own queue name, so runs do not
see each other. Tests isolate from one another by creating their own tenants, which is also how the
product isolates customers.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.apikeys.service import onboard_tenant
from service.auth.types import TenantId
from service.db import Database
from service.migrate import upgrade
from service.queue import Queue
from service.settings import Settings
from service.tenancy.models import TenantKind

ADMIN_DSN = os.environ.get(
    "WALLGUARD_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("WALLGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _db_url(name: str) -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def create_database(name: str) -> str:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _db_url(name)


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name = f"wallguard_test_{os.getpid()}"
    url = await create_database(name)
    # Alembic's env runs its own event loop: give it a thread.
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_database(name)


def make_settings(database_url: str, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "WALLGUARD_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "WALLGUARD_QUEUE_NAME": f"wallguard:test:{uuid.uuid4().hex}",
            "WALLGUARD_LOG_LEVEL": "WARNING",
            **extra,
        }
    )


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    q = await Queue.connect(settings.redis_url, settings.queue_name)
    yield q
    await q.close()


@pytest.fixture(scope="session")
async def db(settings: Settings, queue: Queue) -> AsyncIterator[Database]:
    database = Database(settings, queue)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


class TenantHandle(msgspec.Struct):
    tenant_id: TenantId
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


MakeTenant = Callable[..., Awaitable[TenantHandle]]


@pytest.fixture
def make_tenant(db: Database) -> MakeTenant:
    async def _make(name: str | None = None, kind: TenantKind = TenantKind.AGENCY) -> TenantHandle:
        async with db.system_unit_of_work() as uow:
            result = await onboard_tenant(uow, name or f"tenant-{uuid.uuid4().hex[:8]}", kind)
        return TenantHandle(tenant_id=TenantId(result.tenant_id), api_key=result.api_key)

    return _make
