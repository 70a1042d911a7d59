"""`updated_since` on findings and scans: oldest change first, a cursor that stays stable when
rows share a timestamp, and a row changed again listed again after the ones already seen."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from service.auth.types import TenantId
from service.crypto import Cipher
from service.db import Database
from service.findings.models import EXCERPT_PURPOSE, Finding, FindingSource, FindingStatus
from service.scanning.models import Scan, ScanStatus
from service.settings import Settings
from tests.conftest import MakeTenant
from tests.stats.test_stats_api import client_and_connection

T0 = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


async def seed_findings(
    db: Database, settings: Settings, tenant_id: TenantId, stamps: list[dt.datetime]
) -> list[uuid.UUID]:
    client_id, connection_id = await client_and_connection(db, tenant_id)
    cipher = Cipher(settings.encryption_keys)
    ids = []
    async with db.unit_of_work(tenant_id) as uow:
        for stamp in stamps:
            row = Finding(
                tenant_id=tenant_id,
                connection_id=connection_id,
                client_id=client_id,
                comment_id=uuid.uuid4().hex,
                types=["PHONE_NUMBER"],
                entities=[],
                masked_excerpt_ciphertext=cipher.encrypt_text(
                    "Ring ** ** ** 50", tenant_id=tenant_id, purpose=EXCERPT_PURPOSE
                ),
                fingerprints=[],
                max_score=0.9,
                status=FindingStatus.HIDDEN,
                source=FindingSource.REALTIME,
                received_at=stamp,
                created_at=stamp,
                updated_at=stamp,
            )
            uow.session.add(row)
            await uow.session.flush()
            ids.append(row.id)
    return ids


async def _drain(
    client: AsyncTestClient[Litestar], path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the feed never ended")


async def test_findings_change_feed(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant, db: Database, settings: Settings
) -> None:
    t = await make_tenant()
    s = dt.timedelta(seconds=1)
    # Three share one timestamp: only the id tells them apart.
    stamps = [T0, T0 + s, T0 + 2 * s, T0 + 2 * s, T0 + 2 * s, T0 + 3 * s]
    ids = await seed_findings(db, settings, t.tenant_id, stamps)
    since = (T0 + s).isoformat()
    feed = await _drain(client, "/v1/findings", t.headers, updated_since=since, limit=2)
    assert [f["id"] for f in feed] == [
        str(i) for _, i in sorted(zip(stamps[1:], ids[1:], strict=True), key=lambda p: p)
    ]
    assert all(dt.datetime.fromisoformat(f["updated_at"]) >= T0 + s for f in feed)

    # A change moves the finding behind everything already seen.
    async with db.unit_of_work(t.tenant_id) as uow:
        await uow.session.execute(
            update(Finding).where(Finding.id == ids[1]).values(updated_at=T0 + 10 * s)
        )
    again = await _drain(client, "/v1/findings", t.headers, updated_since=since, limit=2)
    assert again[-1]["id"] == str(ids[1]) and len(again) == len(feed)
    later = await _drain(client, "/v1/findings", t.headers, updated_since=(T0 + 5 * s).isoformat())
    assert [f["id"] for f in later] == [str(ids[1])]

    # Without updated_since: newest first, as before; a cursor of one ordering is refused by
    # the other.
    newest = (await client.get("/v1/findings", params={"limit": 1}, headers=t.headers)).json()
    r = await client.get(
        "/v1/findings",
        params={"updated_since": since, "cursor": newest["next_cursor"]},
        headers=t.headers,
    )
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-cursor")


async def test_scans_change_feed(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant, db: Database
) -> None:
    t = await make_tenant()
    _, connection_id = await client_and_connection(db, t.tenant_id)
    s = dt.timedelta(seconds=1)
    ids = []
    async with db.unit_of_work(t.tenant_id) as uow:
        for i, status in enumerate([ScanStatus.COMPLETED, ScanStatus.FAILED, ScanStatus.CANCELLED]):
            scan = Scan(
                tenant_id=t.tenant_id,
                connection_id=connection_id,
                status=status,
                requested_by="system",
                created_at=T0 + i * s,
                updated_at=T0 + (3 - i) * s,
            )
            uow.session.add(scan)
            await uow.session.flush()
            ids.append(str(scan.id))
    feed = await _drain(
        client, "/v1/scans", t.headers, updated_since=(T0 + 2 * s).isoformat(), limit=1
    )
    # Oldest change first: the scan changed at T0+2s, then the one changed at T0+3s.
    assert [f["id"] for f in feed] == [ids[1], ids[0]]
