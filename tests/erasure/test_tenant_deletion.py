"""Deleting a tenant: confirmation, keys revoked, pages unsubscribed, tokens forgotten, data gone."""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text

from service.connections.models import Connection
from service.crypto import Cipher
from service.db import Database
from service.erasure.tenant import begin_deletion, delete_tenant_data
from service.findings.models import Finding
from service.pipeline.context import PipelineContext
from service.pipeline.polling import poll_once
from service.platforms.graph import GraphClient
from service.sandbox import RunningSandbox
from service.settings import Settings
from tests.conftest import MakeTenant
from tests.helpers import wallguard
from tests.pipeline.conftest import APP_ID, connect_page
from tests.retention.support import add_page, add_records

Api = AsyncTestClient[Litestar]


async def _rows(db: Database, table: str, tenant_id: Any) -> int:
    async with db.system_unit_of_work() as uow:
        column = "id" if table == "tenants" else "tenant_id"
        return int(
            (
                await uow.session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :t"), {"t": tenant_id}
                )
            ).scalar_one()
        )


async def test_delete_tenant_needs_its_id_then_revokes_keys_and_deletes_everything(
    api: Api, db: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    cipher = Cipher(settings.encryption_keys)
    await add_records(db, cipher, await add_page(db, tenant.tenant_id), count=3)
    await add_records(db, cipher, await add_page(db, other.tenant_id), count=2)

    for body in ({}, {"confirm": "yes"}, {"confirm": str(other.tenant_id)}):
        r = await api.request("DELETE", "/v1/tenant", json=body, headers=tenant.headers)
        assert r.status_code == 422, r.text
    assert (await api.get("/v1/tenant", headers=tenant.headers)).status_code == 200

    r = await api.request(
        "DELETE", "/v1/tenant", json={"confirm": str(tenant.tenant_id)}, headers=tenant.headers
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "deleting" and r.json()["api_keys_revoked"] == 1
    # The key that asked is revoked with the rest, at once.
    assert (await api.get("/v1/tenant", headers=tenant.headers)).status_code == 401

    removed = await delete_tenant_data(db, tenant.tenant_id)
    assert removed["findings"] == 3
    assert removed["tracked_comments"] == 3 and removed["storms"] == 1
    for table in (
        "tenants",
        "findings",
        "inbox_events",
        "audit_events",
        "api_keys",
        "clients",
        "tracked_comments",
        "storms",
    ):
        assert await _rows(db, table, tenant.tenant_id) == 0, table
    # Again (a retried job): nothing left to do.
    assert await delete_tenant_data(db, tenant.tenant_id) == {}
    assert await _rows(db, "findings", other.tenant_id) == 2
    assert await _rows(db, "tracked_comments", other.tenant_id) == 2
    assert (await api.get("/v1/tenant", headers=other.headers)).status_code == 200


async def test_deletion_unsubscribes_pages_and_forgets_their_tokens(
    sandbox: RunningSandbox,
    graph: GraphClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    sandbox.store.add_comment(page.post_id, "ring 40 52 37 46", author_name="Del Ete", notify=False)
    await poll_once(pctx, page.tenant_id, page.connection_id)
    assert APP_ID in sandbox.store.pages[page.page_id].subscribed_apps

    started = await begin_deletion(
        db,
        graph,
        Cipher(settings.encryption_keys),
        tenant.tenant_id,
        confirm=str(tenant.tenant_id),
        actor="test",
    )
    assert started.pages_unsubscribed == 1 and started.tokens_forgotten == 1
    assert APP_ID not in sandbox.store.pages[page.page_id].subscribed_apps
    async with db.unit_of_work(tenant.tenant_id) as uow:
        connection = await uow.session.get(Connection, (tenant.tenant_id, page.connection_id))
        assert connection is not None and connection.token_ciphertext is None
        assert (
            await uow.session.execute(select(func.count()).select_from(Finding))
        ).scalar_one() == 1
    await delete_tenant_data(db, tenant.tenant_id)
    assert await _rows(db, "connections", tenant.tenant_id) == 0


async def test_wallguard_tenants_delete(
    database_url: str, db: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    await add_records(db, Cipher(settings.encryption_keys), await add_page(db, tenant.tenant_id))
    env = {"DATABASE_URL": database_url, "WALLGUARD_ENV": "test", "WALLGUARD_LOG_LEVEL": "WARNING"}
    refused = wallguard("tenants", "delete", str(tenant.tenant_id), "--confirm", "no", env=env)
    assert refused.returncode == 1 and "confirm" in refused.stderr
    assert await _rows(db, "tenants", tenant.tenant_id) == 1

    done = wallguard(
        "tenants",
        "delete",
        str(tenant.tenant_id),
        "--confirm",
        str(tenant.tenant_id),
        "--json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "deleted" and result["removed"]["findings"] == 3
    assert await _rows(db, "tenants", tenant.tenant_id) == 0
