"""The retention purge, with the clock moved forward (an injected clock, no sleeping)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import DBAPIError

from service.audit.models import AuditEvent, AuditHead
from service.audit.service import record, verify
from service.auth.types import TenantId
from service.crypto import Cipher
from service.db import Database, utcnow
from service.findings.models import Finding
from service.inbox.models import InboxEvent
from service.moderation.models import ModerationAction
from service.responses.models import TrackedComment
from service.retention.purge import KINDS, ClientScope, PurgeKind, purge_tenant
from service.scanning.models import Scan
from service.settings import Settings
from service.storms.models import Storm, StormStatus
from tests.conftest import MakeTenant
from tests.retention.support import Page, add_page, add_records, ended_storm, tracked_comment


def later(days: float) -> Callable[[], dt.datetime]:
    moment = utcnow() + dt.timedelta(days=days)
    return lambda: moment


async def _count(db: Database, tenant_id: TenantId, model: Any, *where: ColumnElement[bool]) -> int:
    async with db.unit_of_work(tenant_id) as uow:
        stmt = select(func.count()).select_from(model).where(model.tenant_id == tenant_id, *where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def _set_client_findings_days(
    client: AsyncTestClient[Litestar], headers: dict[str, str], page: Page, days: int
) -> None:
    r = await client.patch(
        f"/v1/clients/{page.client_id}/retention", json={"findings_days": days}, headers=headers
    )
    assert r.status_code == 200, r.text


async def test_each_kind_goes_after_its_period_and_a_client_override_applies(
    db: Database,
    settings: Settings,
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
) -> None:
    cipher = Cipher(settings.encryption_keys)
    tenant = await make_tenant()
    strict = await add_page(db, tenant.tenant_id)  # a bank: 10 days
    default = await add_page(db, tenant.tenant_id)  # the agency's 90 days
    await _set_client_findings_days(client, tenant.headers, strict, 10)
    await add_records(db, cipher, strict)
    await add_records(db, cipher, default)
    # Another tenant's old records are not this purge's business.
    other = await make_tenant()
    await add_records(db, cipher, await add_page(db, other.tenant_id))

    # Right away: nothing is old enough, but processed events lose their payload.
    first = await purge_tenant(db, tenant.tenant_id)
    assert first.counts == {"inbox_payloads_cleared": 6}
    assert await _count(db, tenant.tenant_id, Finding) == 6

    # Eight days on: the inbox rows (7 days) are gone, findings stay.
    result = await purge_tenant(db, tenant.tenant_id, now=later(8))
    assert result.counts == {"inbox_events": 6} and result.complete
    assert await _count(db, tenant.tenant_id, InboxEvent) == 0
    assert await _count(db, tenant.tenant_id, Finding) == 6

    # Eleven days on: the strict client's findings (and their actions), tracked comments and
    # ended storm are gone, not the rest.
    result = await purge_tenant(db, tenant.tenant_id, now=later(11))
    assert result.counts == {"findings": 3, "tracked_comments": 3, "storms": 1}
    assert await _count(db, tenant.tenant_id, Finding, Finding.client_id == strict.client_id) == 0
    assert await _count(db, tenant.tenant_id, Finding, Finding.client_id == default.client_id) == 3
    assert await _count(db, tenant.tenant_id, ModerationAction) == 3
    for row in (TrackedComment, Storm):
        assert await _count(db, tenant.tenant_id, row, row.client_id == strict.client_id) == 0
        assert await _count(db, tenant.tenant_id, row, row.client_id == default.client_id) > 0

    # Ninety-one days on: everything of the default client too, and the finished scans.
    result = await purge_tenant(db, tenant.tenant_id, now=later(91))
    assert result.counts == {"findings": 3, "scans": 2, "tracked_comments": 3, "storms": 1}
    for model in (Finding, ModerationAction, Scan, InboxEvent, TrackedComment, Storm):
        assert await _count(db, tenant.tenant_id, model) == 0
    assert await _count(db, other.tenant_id, Finding) == 3

    # Each purge that removed something is in the audit trail with its counts.
    async with db.unit_of_work(tenant.tenant_id) as uow:
        events = (
            await uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "retention.purged")
                .order_by(AuditEvent.seq)
            )
        ).all()
        assert [e.data["counts"] for e in events] == [
            {"inbox_payloads_cleared": 6},
            {"inbox_events": 6},
            {"findings": 3, "tracked_comments": 3, "storms": 1},
            {"findings": 3, "scans": 2, "tracked_comments": 3, "storms": 1},
        ]
        assert {e.actor for e in events} == {"system:retention"}
        assert (await verify(uow, tenant.tenant_id)).valid


async def test_a_purge_interrupted_midway_is_finished_by_the_next_run(
    db: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    cipher = Cipher(settings.encryption_keys)
    tenant = await make_tenant()
    await add_records(db, cipher, await add_page(db, tenant.tenant_id), count=7)

    class Crash(Exception):
        pass

    class CrashAfter:
        """The findings kind, dying (a killed worker) after two batches."""

        def __init__(self, inner: PurgeKind) -> None:
            self.inner, self.batches = inner, 0
            self.name, self.period, self.per_client = inner.name, inner.period, inner.per_client

        async def purge_batch(self, *args: object, **kwargs: object) -> int:
            if self.batches == 2:
                raise Crash
            self.batches += 1
            return await self.inner.purge_batch(*args, **kwargs)  # type: ignore[arg-type]

    [findings] = [k for k in KINDS if k.name == "findings"]
    with pytest.raises(Crash):
        await purge_tenant(
            db, tenant.tenant_id, now=later(100), batch=2, kinds=[CrashAfter(findings)]
        )
    # Two committed batches stay done; nothing half-done remains.
    assert await _count(db, tenant.tenant_id, Finding) == 3
    result = await purge_tenant(db, tenant.tenant_id, now=later(100), batch=2)
    assert result.counts["findings"] == 3 and result.complete
    assert await _count(db, tenant.tenant_id, Finding) == 0


async def test_a_time_budget_stops_the_purge_and_the_next_run_goes_on(
    db: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    cipher = Cipher(settings.encryption_keys)
    tenant = await make_tenant()
    await add_records(db, cipher, await add_page(db, tenant.tenant_id), count=4)
    stopped = await purge_tenant(db, tenant.tenant_id, now=later(100), budget_seconds=0)
    assert not stopped.complete and stopped.counts == {}
    done = await purge_tenant(db, tenant.tenant_id, now=later(100))
    assert done.complete and done.counts["findings"] == 4


async def _old_audit_events(db: Database, tenant_id: TenantId, days_ago: int, count: int) -> None:
    with time_machine.travel(utcnow() - dt.timedelta(days=days_ago), tick=True):
        async with db.unit_of_work(tenant_id) as uow:
            for n in range(count):
                record(
                    uow,
                    tenant_id,
                    actor="test",
                    action="test.old",
                    subject_type="test",
                    subject_id=str(n),
                )


async def test_the_audit_chain_stays_verifiable_after_its_oldest_events_go(
    db: Database,
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
) -> None:
    # Onboarded long ago: its trail starts with the tenant's and its key's creation (2 events).
    with time_machine.travel(utcnow() - dt.timedelta(days=401), tick=True):
        tenant = await make_tenant()
    await _old_audit_events(db, tenant.tenant_id, 400, 5)
    await _old_audit_events(db, tenant.tenant_id, 100, 2)
    async with db.unit_of_work(tenant.tenant_id) as uow:
        before = await verify(uow, tenant.tenant_id)
    assert before.valid and before.first_seq == 1 and before.anchor_seq == 0

    result = await purge_tenant(db, tenant.tenant_id, batch=2)
    assert result.counts == {"audit_events": 7}
    report = (await client.get("/v1/audit-events/verify", headers=tenant.headers)).json()
    assert report["valid"] is True, report
    assert report["anchor_seq"] == 7 and report["first_seq"] == 8
    # The two 100-day-old events and the purge's own event are left.
    assert report["events"] == 3

    from service.cli.audit_chain import verify_audit

    assert (await verify_audit(db, tenant.tenant_id)).valid

    # Shorter retention (the 30-day floor) takes the 100-day-old ones too.
    r = await client.patch(
        "/v1/tenant/retention", json={"audit_events_days": 30}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert (await purge_tenant(db, tenant.tenant_id)).counts == {"audit_events": 2}
    report = (await client.get("/v1/audit-events/verify", headers=tenant.headers)).json()
    assert report["valid"] is True and report["anchor_seq"] == 9, report


async def test_removing_the_first_retained_event_is_still_caught(
    db: Database,
    database_url: str,
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    await _old_audit_events(db, tenant.tenant_id, 400, 3)
    await _old_audit_events(db, tenant.tenant_id, 10, 3)
    await purge_tenant(db, tenant.tenant_id)
    assert (await client.get("/v1/audit-events/verify", headers=tenant.headers)).json()["valid"]

    # Someone with the table owner's rights drops the oldest retained event.
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 4", tenant.tenant_id
        )
    finally:
        await conn.close()
    report = (await client.get("/v1/audit-events/verify", headers=tenant.headers)).json()
    assert report["valid"] is False and report["broken_at_seq"] == 5, report


async def test_the_app_cannot_purge_recent_audit_events_nor_delete_any(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    await _old_audit_events(db, tenant.tenant_id, 1, 2)
    with pytest.raises(DBAPIError, match="younger than 30 days"):
        async with db.unit_of_work(tenant.tenant_id) as uow:
            await uow.session.execute(
                text("SELECT wallguard_purge_audit_events(:t, now(), 100)"),
                {"t": tenant.tenant_id},
            )
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.unit_of_work(tenant.tenant_id) as uow:
            await uow.session.execute(text("DELETE FROM audit_events"))
    # Another tenant's chain is out of reach even through the function.
    other = await make_tenant()
    with pytest.raises(DBAPIError, match="outside the tenant context"):
        async with db.unit_of_work(tenant.tenant_id) as uow:
            await uow.session.execute(
                text("SELECT wallguard_purge_audit_events(:t, now() - interval '40 days', 100)"),
                {"t": other.tenant_id},
            )
    async with db.unit_of_work(tenant.tenant_id) as uow:
        head = await uow.session.get(AuditHead, tenant.tenant_id)
        assert head is not None and head.anchor_seq == 0


async def test_client_scopes_cover_every_client_exactly_once() -> None:
    from service.retention.purge import _plan
    from service.retention.schemas import DEFAULTS
    from service.retention.service import ResolvedRetention

    a, b = uuid.uuid4(), uuid.uuid4()
    resolved = ResolvedRetention(
        tenant=DEFAULTS,
        clients={a: msgspec.structs.replace(DEFAULTS, findings_days=10), b: DEFAULTS},
    )
    [findings] = [k for k in KINDS if k.name == "findings"]
    now = utcnow()
    plan = _plan(findings, resolved, now)
    assert [scope for scope, _ in plan] == [
        ClientScope(only=min(a, b)),
        ClientScope(only=max(a, b)),
        ClientScope(exclude=tuple(sorted((a, b)))),
    ]
    [audit] = [k for k in KINDS if k.name == "audit_events"]
    assert _plan(audit, resolved, now) == [(ClientScope(), now - dt.timedelta(days=365))]


async def test_response_rows_go_with_the_findings_period_and_a_storm_in_progress_stays(
    db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    page = await add_page(db, tenant.tenant_id)
    now = utcnow()
    async with db.unit_of_work(tenant.tenant_id) as uow:
        for days, comment_id in ((100, "1_100"), (10, "1_10")):
            uow.session.add(tracked_comment(page, comment_id, now - dt.timedelta(days=days)))
        uow.session.add(ended_storm(page, now - dt.timedelta(days=100)))
        uow.session.add(ended_storm(page, now - dt.timedelta(days=10)))
        # A storm in progress for ages is live state, not history.
        uow.session.add(ended_storm(page, now - dt.timedelta(days=200), StormStatus.ACTIVE))

    result = await purge_tenant(db, tenant.tenant_id, now=lambda: now)
    assert result.counts == {"tracked_comments": 1, "storms": 1}
    async with db.unit_of_work(tenant.tenant_id) as uow:
        kept = (await uow.session.scalars(select(TrackedComment.comment_id))).all()
        assert kept == ["1_10"]
        storms = (await uow.session.scalars(select(Storm).order_by(Storm.started_at))).all()
        assert [(s.status, (now - s.started_at).days) for s in storms] == [
            (StormStatus.ACTIVE, 200),
            (StormStatus.ENDED, 10),
        ]

    # Ninety-one days later the recent ones go too; the storm in progress still stays.
    result = await purge_tenant(db, tenant.tenant_id, now=later(91))
    assert result.counts == {"tracked_comments": 1, "storms": 1}
    assert await _count(db, tenant.tenant_id, TrackedComment) == 0
    assert await _count(db, tenant.tenant_id, Storm, Storm.status == StormStatus.ACTIVE) == 1
    assert await _count(db, tenant.tenant_id, Storm) == 1
