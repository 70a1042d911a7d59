"""What both pipeline benchmarks need: a fresh database, a sandbox process, a tenant with a
connected page."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from service.apikeys.service import onboard_tenant
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import store_token
from service.crypto import Cipher
from service.db import Database
from service.migrate import upgrade
from service.settings import Settings
from service.tenancy.models import Client, TenantKind

ADMIN_DSN = os.environ.get(
    "WALLGUARD_BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("WALLGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_ID, APP_SECRET, VERIFY_TOKEN = "bench-app", "bench-secret", "bench-verify"


def print_result(result: dict[str, Any]) -> None:
    """A run's figures, one per line, names aligned (what every pipeline bench prints)."""
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fresh_database(name: str) -> str:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{url}/{name}"
    await asyncio.to_thread(upgrade, url)
    return url


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def bench_settings(database_url: str, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "WALLGUARD_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "WALLGUARD_QUEUE_NAME": f"wallguard:bench:{uuid.uuid4().hex[:8]}",
            "WALLGUARD_LOG_LEVEL": "WARNING",
            "META_APP_ID": APP_ID,
            "META_APP_SECRET": APP_SECRET,
            "META_WEBHOOK_VERIFY_TOKEN": VERIFY_TOKEN,
            **extra,
        }
    )


class Sandbox:
    """`python -m service.sandbox` as a separate process (it must not share our GIL)."""

    def __init__(self, pages: int = 1, webhook_connections: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "META_APP_ID": APP_ID,
            "META_APP_SECRET": APP_SECRET,
            "WALLGUARD_SANDBOX_PAGES": str(pages),
        }
        options = ["--port", str(self.port)]
        if webhook_connections is not None:
            options += ["--webhook-connections", str(webhook_connections)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.sandbox", *options],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                httpx.get(f"{self.url}/_sandbox/pages", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    raise RuntimeError("the sandbox exited") from None
                time.sleep(0.05)
        else:
            raise RuntimeError("the sandbox did not start")

    def first_page(self) -> str:
        page_id: str = httpx.get(f"{self.url}/_sandbox/pages").json()[0]["id"]
        return page_id

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@dataclass
class Tenant:
    tenant_id: TenantId
    api_key: str
    client_id: uuid.UUID
    connection_id: uuid.UUID


async def tenant_with_page(
    db: Database, settings: Settings, sandbox: Sandbox, page_id: str
) -> Tenant:
    async with db.system_unit_of_work() as uow:
        onboarded = await onboard_tenant(uow, f"bench-{uuid.uuid4().hex[:6]}", TenantKind.COMPANY)
    tenant_id = TenantId(onboarded.tenant_id)
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        token = (await http.post(f"/_sandbox/pages/{page_id}/tokens")).json()["access_token"]
    async with db.unit_of_work(tenant_id) as uow:
        client = Client(tenant_id=tenant_id, name="Bench client", country="DK")
        uow.session.add(client)
        await uow.session.flush()
        connection = Connection(
            tenant_id=tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id=page_id,
            name="Bench page",
            status=ConnectionStatus.ACTIVE,
            tasks=["MODERATE"],
            country="DK",
        )
        store_token(Cipher(settings.encryption_keys), connection, token)
        uow.session.add(connection)
        await uow.session.flush()
    return Tenant(tenant_id, onboarded.api_key, client.id, connection.id)
