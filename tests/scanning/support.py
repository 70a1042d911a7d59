"""Shared by the scan, audit and stats tests: a connected sandbox page, a worker context built
like the worker's, and the app with this issue's controllers (until app.py registers them)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import select

from service.api.audit import AuditController
from service.api.scanning import ScanController
from service.api.stats import StatsController
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import store_token
from service.crypto import Cipher
from service.db import Database
from service.detection import Detector, TenantRules
from service.findings.models import Finding
from service.pipeline.context import PipelineConfig
from service.platforms.graph import GraphClient
from service.queue import Queue
from service.sandbox import RunningSandbox
from service.scanning.models import Scan
from service.settings import Settings
from service.tenancy.models import Client
from service.workers.main import pipeline_shutdown, pipeline_startup

APP_ID = "sandbox-app"
APP_SECRET = "sandbox-secret"


def with_issue_controllers(app: Litestar) -> Litestar:
    paths = {route.path for route in app.routes}
    for controller, path in (
        (ScanController, "/v1/scans"),
        (AuditController, "/v1/audit-events"),
        (StatsController, "/v1/stats"),
    ):
        if path not in paths:
            app.register(controller)
    return app


async def _no_sleep(_: float) -> None:
    return None


def sandbox_graph(sandbox: RunningSandbox) -> GraphClient:
    """The worker's Graph client on the sandbox, with the pipeline's one retry and no real
    sleeping between attempts."""
    return GraphClient(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        base_url=sandbox.url,
        max_retries=1,
        sleep=_no_sleep,
    )


@asynccontextmanager
async def worker_context(
    settings: Settings, db: Database, queue: Queue, sandbox: RunningSandbox
) -> AsyncIterator[dict[str, Any]]:
    """The arq ctx a worker builds at startup (service/workers/main.py + the pipeline)."""
    graph = sandbox_graph(sandbox)
    ctx: dict[str, Any] = {
        "settings": settings,
        "db": db,
        "queue": queue,
        "redis": queue.redis,
        "pipeline_graph": graph,
        "pipeline_config": PipelineConfig(),
        "job_try": 1,
    }
    await pipeline_startup(ctx)
    try:
        yield ctx
    finally:
        await pipeline_shutdown(ctx)
        await graph.aclose()


async def sandbox_token(sandbox: RunningSandbox, page_id: str) -> str:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        response = await http.post(f"/_sandbox/pages/{page_id}/tokens")
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


async def new_sandbox_page(sandbox: RunningSandbox, name: str = "Lynnet Mobil") -> str:
    """A page of its own for one test (the sandbox is shared by the module)."""
    return sandbox.store.create_page(name).id


async def seed_page(sandbox: RunningSandbox, page_id: str, **body: Any) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=120) as http:
        response = await http.post(
            "/_sandbox/seed", json={"page_ids": [page_id], "ig_media_per_account": 0, **body}
        )
        response.raise_for_status()
        result: dict[str, int] = response.json()
        return result


async def connect_page(
    db: Database,
    settings: Settings,
    tenant_id: TenantId,
    sandbox: RunningSandbox,
    page_id: str,
    *,
    country: str | None = "DK",
) -> Connection:
    """A client and an active connection on ``page_id`` with a working page token, as OAuth
    would leave them."""
    cipher = Cipher(settings.encryption_keys)
    token = await sandbox_token(sandbox, page_id)
    async with db.unit_of_work(tenant_id) as uow:
        client = Client(tenant_id=tenant_id, name=f"client-{uuid.uuid4().hex[:8]}")
        uow.session.add(client)
        await uow.session.flush()
        connection = Connection(
            tenant_id=tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id=page_id,
            name=sandbox.store.pages[page_id].name,
            status=ConnectionStatus.ACTIVE,
            tasks=["MODERATE"],
            country=country,
        )
        store_token(cipher, connection, token)
        uow.session.add(connection)
        await uow.session.flush()
    return connection


async def reauthorise(
    db: Database, settings: Settings, tenant_id: TenantId, sandbox: RunningSandbox, conn_id: Any
) -> None:
    """What the OAuth callback does for a page that needed re-authorisation."""
    cipher = Cipher(settings.encryption_keys)
    async with db.unit_of_work(tenant_id) as uow:
        connection = await uow.session.get(Connection, (tenant_id, conn_id))
        assert connection is not None
        store_token(cipher, connection, await sandbox_token(sandbox, connection.external_id))
        connection.status = ConnectionStatus.ACTIVE
        connection.status_reason = None


async def load_scan(db: Database, tenant_id: TenantId, scan_id: uuid.UUID) -> Scan:
    async with db.unit_of_work(tenant_id) as uow:
        scan = await uow.session.get(Scan, (tenant_id, scan_id))
        assert scan is not None
        return scan


async def findings_of(db: Database, tenant_id: TenantId, connection_id: uuid.UUID) -> list[Finding]:
    async with db.unit_of_work(tenant_id) as uow:
        rows = await uow.session.scalars(
            select(Finding).where(
                Finding.tenant_id == tenant_id, Finding.connection_id == connection_id
            )
        )
        return list(rows.all())


def personal_comment_ids(sandbox: RunningSandbox, page_id: str, region: str = "DK") -> set[str]:
    """The seeded comments that carry personal data (the seed's ground truth) and that the
    detection engine recognises: the scan must find exactly these. (The engine's recall on
    the seed is its own tests' business; a few seeded phone numbers are in ranges that
    libphonenumber treats as unassigned.)"""
    detector = Detector(TenantRules(allowlist=[], custom_patterns=[]))
    with sandbox.store.lock:
        seeded = [
            (n.id, n.message)
            for n in sandbox.store.nodes.values()
            if n.page_id == page_id and n.kind == "comment" and n.pii
        ]
    return {cid for cid, text in seeded if detector.detect(text, region=region)}


def comment_ids(sandbox: RunningSandbox, page_id: str) -> set[str]:
    with sandbox.store.lock:
        return {
            n.id
            for n in sandbox.store.nodes.values()
            if n.page_id == page_id and n.kind == "comment"
        }


def hide_calls(sandbox: RunningSandbox, page_id: str) -> dict[str, int]:
    """Per comment, how often the platform was asked to hide it (the sandbox's own record)."""
    with sandbox.store.lock:
        return {
            n.id: sum(1 for hidden, _ in n.hide_history if hidden)
            for n in sandbox.store.nodes.values()
            if n.page_id == page_id and n.kind == "comment"
        }


async def issue_key(
    api: Any, admin_headers: dict[str, str], scopes: list[str], client_id: Any = None
) -> dict[str, str]:
    """A further API key of the tenant, as headers."""
    body: dict[str, Any] = {"name": f"key-{uuid.uuid4().hex[:6]}", "scopes": scopes}
    if client_id is not None:
        body["client_id"] = str(client_id)
    response = await api.post("/v1/api-keys", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['secret']}"}
