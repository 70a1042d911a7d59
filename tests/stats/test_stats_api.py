"""GET /v1/stats over findings written straight to Postgres with known times and outcomes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.db import Database
from service.findings.models import Finding, FindingSource, FindingStatus
from service.tenancy.models import Client as ClientRow
from tests.conftest import MakeTenant
from tests.scanning.support import issue_key

Client = AsyncTestClient[Litestar]


async def client_and_connection(db: Database, tenant_id: TenantId) -> tuple[uuid.UUID, uuid.UUID]:
    async with db.unit_of_work(tenant_id) as uow:
        client = ClientRow(tenant_id=tenant_id, name=f"c-{uuid.uuid4().hex[:6]}")
        uow.session.add(client)
        await uow.session.flush()
        connection = Connection(
            tenant_id=tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id=uuid.uuid4().hex[:12],
            name="page",
            status=ConnectionStatus.ACTIVE,
            tasks=[],
        )
        uow.session.add(connection)
        await uow.session.flush()
        return client.id, connection.id


async def add_finding(
    db: Database,
    tenant_id: TenantId,
    ids: tuple[uuid.UUID, uuid.UUID],
    *,
    types: list[str],
    status: FindingStatus,
    received_at: dt.datetime,
    hide_ms: int | None = None,
) -> None:
    client_id, connection_id = ids
    async with db.unit_of_work(tenant_id) as uow:
        uow.session.add(
            Finding(
                tenant_id=tenant_id,
                connection_id=connection_id,
                client_id=client_id,
                comment_id=uuid.uuid4().hex,
                types=types,
                entities=[],
                masked_excerpt_ciphertext=b"\x01not-read-by-stats",
                fingerprints=[],
                max_score=0.9,
                status=status,
                source=FindingSource.REALTIME,
                received_at=received_at,
                hidden_at=None
                if hide_ms is None
                else received_at + dt.timedelta(milliseconds=hide_ms),
            )
        )


async def stats(api: Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/stats", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_counts_rates_and_time_to_hide(
    api: Client, db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    other = await make_tenant()
    tid = tenant.tenant_id
    first = await client_and_connection(db, tid)
    second = await client_and_connection(db, tid)
    now = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    day1, day2 = now - dt.timedelta(days=3), now - dt.timedelta(days=1)
    for ms in (100, 200, 300, 400):
        await add_finding(
            db,
            tid,
            first,
            types=["PHONE_NUMBER"],
            status=FindingStatus.HIDDEN,
            received_at=day1,
            hide_ms=ms,
        )
    await add_finding(
        db,
        tid,
        first,
        types=["EMAIL_ADDRESS", "PHONE_NUMBER"],
        status=FindingStatus.UNHIDDEN,
        received_at=day2,
        hide_ms=1000,
    )
    for _ in range(2):
        await add_finding(
            db, tid, second, types=["IBAN"], status=FindingStatus.MONITORED, received_at=day2
        )
    await add_finding(
        db,
        tid,
        second,
        types=["EMAIL_ADDRESS"],
        status=FindingStatus.REPORTED,
        received_at=day2,
    )
    # Outside the default 30 days.
    await add_finding(
        db,
        tid,
        first,
        types=["DK_CPR"],
        status=FindingStatus.HIDDEN,
        received_at=now - dt.timedelta(days=40),
        hide_ms=50,
    )

    body = await stats(api, tenant.headers)
    assert body["findings"] == 8
    assert body["by_status"] == {
        "hidden": 4,
        "monitored": 2,
        "reported": 1,
        "pending_hide": 0,
        "hide_failed": 0,
        "unhidden": 1,
        "confirmed": 0,
    }
    assert body["by_type"] == [
        {"type": "PHONE_NUMBER", "count": 5},
        {"type": "EMAIL_ADDRESS", "count": 2},
        {"type": "IBAN", "count": 2},
    ]
    assert body["by_day"] == [
        {"day": day1.date().isoformat(), "type": "PHONE_NUMBER", "count": 4},
        {"day": day2.date().isoformat(), "type": "EMAIL_ADDRESS", "count": 2},
        {"day": day2.date().isoformat(), "type": "IBAN", "count": 2},
        {"day": day2.date().isoformat(), "type": "PHONE_NUMBER", "count": 1},
    ]
    assert body["unhide_rate"] == 0.2
    # percentile_cont over 100, 200, 300, 400, 1000 ms.
    assert body["time_to_hide"] == {"samples": 5, "p50_ms": 300.0, "p95_ms": 880.0}

    by_client = await stats(api, tenant.headers, client_id=str(second[0]))
    assert by_client["findings"] == 3 and by_client["time_to_hide"]["samples"] == 0
    assert by_client["unhide_rate"] is None and by_client["time_to_hide"]["p50_ms"] is None
    by_connection = await stats(api, tenant.headers, connection_id=str(first[1]))
    assert by_connection["findings"] == 5
    window = await stats(
        api,
        tenant.headers,
        since=(now - dt.timedelta(days=41)).isoformat(),
        until=(now - dt.timedelta(days=2)).isoformat(),
    )
    assert window["findings"] == 5
    assert {t["type"] for t in window["by_type"]} == {"PHONE_NUMBER", "DK_CPR"}

    # A key restricted to the first client sees only its figures, whatever it asks for.
    restricted = await issue_key(api, tenant.headers, ["read"], client_id=first[0])
    assert (await stats(api, restricted))["findings"] == 5
    assert (await stats(api, restricted, client_id=str(second[0])))["findings"] == 0

    # Another tenant sees nothing of this one, even naming its ids.
    assert (await stats(api, other.headers))["findings"] == 0
    assert (await stats(api, other.headers, client_id=str(first[0])))["findings"] == 0


async def test_bad_windows_are_refused(api: Client, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    backwards = await api.get(
        "/v1/stats",
        params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert backwards.status_code == 422
    too_long = await api.get(
        "/v1/stats",
        params={"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert too_long.status_code == 422
    junk = await api.get("/v1/stats", params={"client_id": "nope"}, headers=tenant.headers)
    assert junk.status_code == 400
    detect_only = await issue_key(api, tenant.headers, ["detect"])
    assert (await api.get("/v1/stats", headers=detect_only)).status_code == 403
