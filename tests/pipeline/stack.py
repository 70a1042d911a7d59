"""The whole product as separate processes, for fault tests: a private redis-server (never the
shared one: these tests kill it), the platform sandbox (`python -m service.sandbox`) as Meta, the
API (`wallguard serve`) and workers (`wallguard worker`), on a tenant of their own with a page
connected and its webhooks registered with the sandbox, as OAuth does."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from service.apikeys.service import onboard_tenant
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import store_token
from service.crypto import Cipher
from service.db import Database, utcnow
from service.platforms.graph import GraphClient
from service.settings import Settings
from service.tenancy.models import Client, TenantKind
from tests.helpers import Process, free_port, start_wallguard

APP_ID, APP_SECRET, VERIFY_TOKEN = "faults-app", "faults-secret", "faults-verify"
LEAKY = "Kan I ikke bare ringe til mig på 40 52 37 46? Det er {n}. gang jeg skriver."
CLEAN = "Hvornår kommer de nye priser? Spørger for {n}. gang."


class PrivateRedis:
    """A redis-server of the test's own, without persistence: a restart loses everything."""

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

    def kill(self) -> None:
        """SIGKILL: no goodbye to its clients, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    async def restart(self) -> None:
        self.stop()
        await self.start()


class SandboxProcess:
    """`python -m service.sandbox` (its own process: the worker's calls must not wait on our
    event loop)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "META_APP_ID": APP_ID, "META_APP_SECRET": APP_SECRET}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.sandbox", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                httpx.get(f"{self.url}/_sandbox/pages", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if self.process.poll() is not None:
                    raise RuntimeError("the sandbox exited") from None
                time.sleep(0.05)
        raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class Stack:
    """Redis, sandbox, API and workers as processes; ``control`` talks to the sandbox and
    ``admin`` reads the database as its owner (the test's view, not the product's)."""

    def __init__(self, database_url: str, redis: PrivateRedis) -> None:
        self.database_url = database_url
        self.redis = redis
        self.sandbox = SandboxProcess()
        self.api_port = free_port()
        self.env: dict[str, str] = {
            "WALLGUARD_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "WALLGUARD_QUEUE_NAME": f"wallguard:faults:{uuid.uuid4().hex[:8]}",
            "WALLGUARD_LOG_JSON": "true",
            "META_APP_ID": APP_ID,
            "META_APP_SECRET": APP_SECRET,
            "META_WEBHOOK_VERIFY_TOKEN": VERIFY_TOKEN,
            "META_GRAPH_URL": self.sandbox.url,
            "META_DIALOG_URL": self.sandbox.url,
            "WALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{self.api_port}",
            # Polling would find what the faults strand, sooner or later: these tests are
            # about the way back without it (the connection counts as just polled).
            "WALLGUARD_POLL_INTERVAL_SECONDS": "3600",
            "WALLGUARD_LOG_LEVEL": "INFO",
        }
        self.settings = Settings.from_env(self.env)
        self.api: Process | None = None
        self.workers: list[Process] = []
        self.control = httpx.AsyncClient(base_url=self.sandbox.url, timeout=30)
        self.tenant_id: TenantId | None = None
        self.page_id = ""
        self.post_id = ""

    async def start(self, *, workers: int = 1, extra_env: Mapping[str, str] = ()) -> None:  # type: ignore[assignment]
        self.env.update(extra_env)
        self.api = start_wallguard("serve", "--port", str(self.api_port), env=self.env)
        for _ in range(workers):
            self.start_worker()
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                if self.api.poll() is not None:
                    raise RuntimeError(f"the API exited: {self.api.output()[-2000:]}")
                try:
                    if (await http.get(f"http://127.0.0.1:{self.api_port}/health")).is_success:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the API did not start")
        await self._tenant_with_page()
        await self.control.put("/_sandbox/webhooks/settings", json={"delay_seconds": 0})

    def start_worker(self) -> Process:
        worker = start_wallguard("worker", env=self.env)
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: Process) -> None:
        """SIGKILL: no shutdown, its jobs stay claimed in Redis, its transactions are cut."""
        worker.popen.send_signal(signal.SIGKILL)
        worker.popen.wait(10)

    async def _tenant_with_page(self) -> None:
        db = Database(self.settings)
        try:
            async with db.system_unit_of_work() as uow:
                onboarded = await onboard_tenant(
                    uow, f"faults-{uuid.uuid4().hex[:6]}", TenantKind.COMPANY
                )
            tenant_id = TenantId(onboarded.tenant_id)
            self.page_id = (await self.control.get("/_sandbox/pages")).json()[0]["id"]
            token = (await self.control.post(f"/_sandbox/pages/{self.page_id}/tokens")).json()[
                "access_token"
            ]
            async with db.unit_of_work(tenant_id) as uow:
                client = Client(tenant_id=tenant_id, name="Faults client", country="DK")
                uow.session.add(client)
                await uow.session.flush()
                connection = Connection(
                    tenant_id=tenant_id,
                    client_id=client.id,
                    platform=Platform.FACEBOOK,
                    external_id=self.page_id,
                    name="Faults page",
                    status=ConnectionStatus.ACTIVE,
                    tasks=["MODERATE"],
                    country="DK",
                    last_polled_at=utcnow(),
                )
                store_token(Cipher(self.settings.encryption_keys), connection, token)
                uow.session.add(connection)
            self.tenant_id = tenant_id
        finally:
            await db.dispose()
        async with GraphClient(
            app_id=APP_ID, app_secret=APP_SECRET, base_url=self.sandbox.url
        ) as g:
            callback = f"http://127.0.0.1:{self.api_port}/webhooks/meta"
            assert await g.subscribe_app_webhook(callback, VERIFY_TOKEN)
            assert await g.subscribe_page(self.page_id, token)
        post = await self.control.post(
            f"/_sandbox/pages/{self.page_id}/posts", json={"message": "Nye priser fra 1. januar"}
        )
        self.post_id = post.json()["id"]

    async def comment(self, text: str, author: str = "Karen Kunde") -> str:
        response = await self.control.post(
            f"/_sandbox/objects/{self.post_id}/comments",
            json={"message": text, "author_name": author},
        )
        response.raise_for_status()
        comment_id: str = response.json()["id"]
        return comment_id

    async def fault(self, **fault: Any) -> None:
        (await self.control.post("/_sandbox/faults", json=fault)).raise_for_status()

    async def clear_faults(self) -> None:
        await self.control.delete("/_sandbox/faults")

    async def state(self, comment_id: str) -> dict[str, Any]:
        response = await self.control.get(f"/_sandbox/comments/{comment_id}")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(
            self.database_url.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def wait_until_hidden(self, comment_ids: list[str], within: float) -> dict[str, Any]:
        """Wait (at most ``within`` seconds) until every comment is hidden on the platform;
        returns their states either way, for the test's assertions."""
        deadline = time.monotonic() + within
        while True:
            states = {c: await self.state(c) for c in comment_ids}
            if all(s["is_hidden"] for s in states.values()) or time.monotonic() > deadline:
                return states
            await asyncio.sleep(0.25)

    def logs(self) -> str:
        parts = [f"--- worker {i} ---\n{w.output()[-20000:]}" for i, w in enumerate(self.workers)]
        if self.api is not None:
            parts.append(f"--- api ---\n{self.api.output()[-3000:]}")
        return "\n".join(parts)

    async def close(self) -> None:
        await self.control.aclose()
        for worker in self.workers:
            worker.stop()
        if self.api is not None:
            self.api.stop()
        self.sandbox.stop()
