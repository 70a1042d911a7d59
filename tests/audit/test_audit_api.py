"""The audit trail through the API and the CLI helper: listing, filters, cursors, the
append-only grant and the hash chain catching a tampered row."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from service.audit.service import record
from service.auth.types import TenantId
from service.cli.audit_chain import verify_audit
from service.db import Database
from service.tenancy.models import Client as ClientRow
from tests.conftest import MakeTenant, TenantHandle
from tests.scanning.support import issue_key

Client = AsyncTestClient[Litestar]


async def add_events(db: Database, tenant: TenantHandle, n: int) -> list[uuid.UUID]:
    """n events: actions alternate test.even/test.odd, subjects widget:<i>."""
    ids: list[uuid.UUID] = []
    async with db.unit_of_work(tenant.tenant_id) as uow:
        for i in range(n):
            event = record(
                uow,
                tenant.tenant_id,
                actor="system:test",
                action="test.even" if i % 2 == 0 else "test.odd",
                subject_type="widget",
                subject_id=f"w{i}",
                data={"i": i},
            )
            ids.append(event.id)
    return ids


async def all_pages(
    api: Client, headers: dict[str, str], **params: str | int
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await api.get("/v1/audit-events", params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


async def test_list_newest_first_by_seq_with_filters_and_cursors(
    api: Client, db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    await add_events(db, tenant, 7)
    newest = await all_pages(api, tenant.headers, limit=3, subject_type="widget")
    seqs = [e["seq"] for e in newest]
    assert len(seqs) == 7 and seqs == sorted(seqs, reverse=True)
    assert newest[0]["subject_id"] == "w6" and newest[0]["data"] == {"i": 6}
    assert len(newest[0]["hash"]) == 64 and newest[1]["hash"] == newest[0]["prev_hash"]

    by_seq = await all_pages(api, tenant.headers, limit=2, order="seq", subject_type="widget")
    assert [e["seq"] for e in by_seq] == sorted(seqs)

    odd = await all_pages(api, tenant.headers, action="test.odd")
    assert [e["subject_id"] for e in odd] == ["w5", "w3", "w1"]
    one = await all_pages(api, tenant.headers, subject_type="widget", subject_id="w4")
    assert [e["data"] for e in one] == [{"i": 4}]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert await all_pages(api, tenant.headers, since=future) == []
    assert len(await all_pages(api, tenant.headers, until=future, subject_type="widget")) == 7

    first = (await api.get("/v1/audit-events", params={"limit": 2}, headers=tenant.headers)).json()
    # A cursor of one order is refused by the other, and junk is a clear 400.
    mixed = await api.get(
        "/v1/audit-events",
        params={"order": "seq", "cursor": first["next_cursor"]},
        headers=tenant.headers,
    )
    assert mixed.status_code == 400
    junk = await api.get("/v1/audit-events", params={"cursor": "nope!"}, headers=tenant.headers)
    assert junk.status_code == 400
    assert junk.headers["content-type"].startswith("application/problem+json")


async def test_verify_a_valid_chain(api: Client, db: Database, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    await add_events(db, tenant, 4)
    report = (await api.get("/v1/audit-events/verify", headers=tenant.headers)).json()
    assert report["valid"] is True
    assert report["broken_at_seq"] is None
    assert report["events"] == report["last_seq"] - report["first_seq"] + 1 >= 4


async def test_the_app_role_cannot_change_or_remove_audit_events(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    await add_events(db, tenant, 1)
    for statement in (
        "UPDATE audit_events SET action = 'forged' WHERE tenant_id = :t",
        "DELETE FROM audit_events WHERE tenant_id = :t",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"):
            async with db.unit_of_work(tenant.tenant_id) as uow:
                await uow.session.execute(text(statement), {"t": tenant.tenant_id})


async def test_a_row_changed_by_the_superuser_breaks_the_chain(
    api: Client, db: Database, make_tenant: MakeTenant, database_url: str
) -> None:
    tenant = await make_tenant()
    other = await make_tenant()
    await add_events(db, tenant, 5)
    await add_events(db, other, 2)
    seq = (await all_pages(api, tenant.headers, subject_id="w2"))[0]["seq"]

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        changed = await conn.execute(
            "UPDATE audit_events SET data = '{\"i\": 99}' WHERE tenant_id = $1 AND seq = $2",
            tenant.tenant_id,
            seq,
        )
        assert changed == "UPDATE 1"
    finally:
        await conn.close()

    report = (await api.get("/v1/audit-events/verify", headers=tenant.headers)).json()
    assert report["valid"] is False
    assert report["broken_at_seq"] == seq
    assert report["reason"] == "the event was changed"
    # Another tenant's chain is untouched.
    assert (await api.get("/v1/audit-events/verify", headers=other.headers)).json()["valid"]

    # The CLI helper: one tenant, then every tenant.
    one = await verify_audit(db, tenant.tenant_id)
    assert not one.valid and one.tenants[0].report.broken_at_seq == seq
    everyone = await verify_audit(db)
    reports = {r.tenant_id: r.report for r in everyone.tenants}
    assert not everyone.valid
    assert reports[tenant.tenant_id].broken_at_seq == seq
    assert reports[other.tenant_id].valid


async def test_scopes_clients_and_tenants(
    api: Client, db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    other = await make_tenant()
    await add_events(db, tenant, 2)
    await add_events(db, other, 3)
    reader = await issue_key(api, tenant.headers, ["read"])
    assert len(await all_pages(api, reader, subject_type="widget")) == 2
    assert (await api.get("/v1/audit-events/verify", headers=reader)).status_code == 403
    detect_only = await issue_key(api, tenant.headers, ["detect"])
    assert (await api.get("/v1/audit-events", headers=detect_only)).status_code == 403

    async with db.unit_of_work(TenantId(tenant.tenant_id)) as uow:
        client = ClientRow(tenant_id=tenant.tenant_id, name=f"c-{uuid.uuid4().hex[:6]}")
        uow.session.add(client)
    restricted = await issue_key(api, tenant.headers, ["read"], client_id=client.id)
    assert (await api.get("/v1/audit-events", headers=restricted)).status_code == 403

    # Each tenant sees its own trail only.
    mine = {e["id"] for e in await all_pages(api, tenant.headers)}
    theirs = {e["id"] for e in await all_pages(api, other.headers)}
    assert mine and theirs and not mine & theirs
