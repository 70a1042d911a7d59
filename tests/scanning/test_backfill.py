"""Backfill scans end to end: the API, the job (called as the worker calls it), the pipeline,
real Postgres and the platform sandbox over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.db import Database
from service.findings.models import FindingSource, FindingStatus
from service.sandbox import RunningSandbox
from service.scanning.models import ScanStatus
from service.settings import Settings
from service.workers.jobs import run_scan
from tests.conftest import MakeTenant
from tests.scanning.support import (
    comment_ids,
    connect_page,
    findings_of,
    hide_calls,
    load_scan,
    new_sandbox_page,
    personal_comment_ids,
    seed_page,
)

Client = AsyncTestClient[Litestar]


async def start_scan(api: Client, headers: dict[str, str], connection_id: Any, **body: Any) -> Any:
    response = await api.post(
        "/v1/scans", json={"connection_id": str(connection_id), **body}, headers=headers
    )
    assert response.status_code == 202, response.text
    return response.json()


async def test_full_backfill_finds_and_hides_exactly_the_personal_comments(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    # 230 comments per post with replies: several comment pages per post, feed in 2 pages.
    seeded = await seed_page(
        sandbox,
        page_id,
        seed=11,
        posts_per_page=120,
        comments_per_post=3,
        personal_ratio=0.3,
        reply_ratio=0.2,
    )
    big = sandbox.store.add_post(page_id, "Big thread", created_time=1_735_000_000, notify=False)
    for n in range(230):
        sandbox.store.add_comment(
            big.id, f"Question {n} about my bill", author_name="Ole Holmsted", notify=False
        )
    pii = personal_comment_ids(sandbox, page_id)
    everything = comment_ids(sandbox, page_id)
    assert pii and len(everything) == seeded["comments"] + 230

    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    created = await start_scan(api, tenant.headers, connection.id)
    assert created["status"] == "pending" and created["comments_scanned"] == 0
    scan_id = uuid.UUID(created["id"])

    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "completed"

    scan = await load_scan(db, tenant.tenant_id, scan_id)
    assert scan.status is ScanStatus.COMPLETED
    assert scan.posts_scanned == seeded["posts"] + 1
    assert scan.comments_scanned == len(everything)
    assert scan.findings == len(pii)
    assert scan.hidden == len(pii)
    assert scan.errors == 0
    assert scan.finished_at is not None and scan.started_at is not None

    findings = await findings_of(db, tenant.tenant_id, connection.id)
    assert {f.comment_id for f in findings} == pii
    assert all(f.source is FindingSource.SCAN and f.scan_id == scan_id for f in findings)
    assert all(f.status is FindingStatus.HIDDEN for f in findings)

    calls = hide_calls(sandbox, page_id)
    assert {c for c, n in calls.items() if n} == pii
    assert all(calls[c] == 1 for c in pii)
    # The same through the platform's call log: one `is_hidden=true` POST per comment.
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        log = (await http.get("/_sandbox/calls", params={"method": "POST"})).json()
    hides = [c["path"].rsplit("/", 1)[-1] for c in log if c["params"].get("is_hidden") == "true"]
    assert sorted(h for h in hides if h in everything) == sorted(pii)

    shown = (await api.get(f"/v1/scans/{scan_id}", headers=tenant.headers)).json()
    assert shown["status"] == "completed"
    assert shown["comments_scanned"] == len(everything)
    assert shown["findings"] == shown["hidden"] == len(pii)
    assert shown["rate"] is not None and shown["rate"] > 0

    # A second run of the same job (arq may run a job twice) changes nothing.
    assert await run_scan(ctx, str(tenant.tenant_id), str(scan_id)) == "completed"
    assert hide_calls(sandbox, page_id) == calls

    events = (
        await api.get(
            "/v1/audit-events",
            params={"subject_type": "scan", "subject_id": str(scan_id)},
            headers=tenant.headers,
        )
    ).json()["items"]
    assert [e["action"] for e in events] == ["scan.completed", "scan.created"]


async def test_a_new_scan_sees_the_findings_and_hides_nothing_twice(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    await seed_page(sandbox, page_id, seed=3, posts_per_page=4, comments_per_post=10)
    pii = personal_comment_ids(sandbox, page_id)
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    first = await start_scan(api, tenant.headers, connection.id)
    await run_scan(ctx, str(tenant.tenant_id), first["id"])
    second = await start_scan(api, tenant.headers, connection.id)
    assert await run_scan(ctx, str(tenant.tenant_id), second["id"]) == "completed"
    scan = await load_scan(db, tenant.tenant_id, uuid.UUID(second["id"]))
    assert scan.findings == len(pii)  # seen again, already hidden
    assert scan.hidden == 0
    assert all(n <= 1 for n in hide_calls(sandbox, page_id).values())


async def test_since_and_until_limit_the_posts(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    await seed_page(sandbox, page_id, seed=4, posts_per_page=10, comments_per_post=2)
    times = sorted(
        n.created_time
        for n in sandbox.store.nodes.values()
        if n.page_id == page_id and n.kind == "post"
    )
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    created = await start_scan(
        api,
        tenant.headers,
        connection.id,
        since=_iso(times[2]),
        until=_iso(times[5]),
    )
    await run_scan(ctx, str(tenant.tenant_id), created["id"])
    scan = await load_scan(db, tenant.tenant_id, uuid.UUID(created["id"]))
    assert scan.status is ScanStatus.COMPLETED
    assert scan.posts_scanned == 4


def _iso(unix: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix, dt.UTC).isoformat()


@pytest.mark.parametrize("body", [{"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00Z"}])
async def test_since_must_be_before_until(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
    body: dict[str, str],
) -> None:
    tenant = await make_tenant()
    page_id = await new_sandbox_page(sandbox)
    connection = await connect_page(db, settings, tenant.tenant_id, sandbox, page_id)
    response = await api.post(
        "/v1/scans", json={"connection_id": str(connection.id), **body}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
