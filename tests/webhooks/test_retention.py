"""The retention purge of outbound-webhook history against the webhooks domain's real tables:
deliveries made through the real outbox, worker and loopback receivers, then the clock moved.
Finished deliveries (succeeded, or failed with the retries spent) go with their attempts and
events; pending ones (retrying, or a replay) stay whatever their age; a client's own period
applies to its events."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text, update

from service.crypto import Cipher
from service.db import Database
from service.pipeline.context import PipelineContext
from service.queue import Queue
from service.retention.purge import WebhookDeliveries, purge_tenant
from service.settings import Settings
from service.tenancy.models import Client
from service.webhooks.delivery import DeliveryConfig, WebhookSender, policy_of
from service.webhooks.events import EventType
from service.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEvent
from service.webhooks.receiver import Received
from service.webhooks.service import deliver_due, emit
from service.workers.jobs import CONTEXT_KEY, purge_retention
from tests.webhooks.conftest import MakePage, Page, RunWorker, create_endpoint
from tests.webhooks.samples import sample

Api = AsyncTestClient[Litestar]
DAY = dt.timedelta(days=1)


def _refuse(received: Received) -> tuple[int, dict[str, str], bytes]:
    return 500, {}, b"down"


@pytest.fixture
async def own_queue(settings: Settings) -> AsyncIterator[Queue]:
    """The retrying delivery's wake-up job (an hour away) goes here, not to the queue the
    other tests' workers drain (they would wait for it)."""
    q = await Queue.connect(settings.redis_url, f"wallguard:test:{uuid.uuid4().hex}")
    yield q
    await q.redis.delete(q.queue_name)
    await q.close()


async def _emit(db: Database, page: Page, client_id: uuid.UUID | None, *types: EventType) -> None:
    async with db.unit_of_work(page.tenant_id) as uow:
        for event_type in types:
            emit(
                uow,
                page.tenant_id,
                event_type,
                sample(event_type, page.tenant_id, client_id or page.client_id, page.connection_id),
                client_id=client_id,
            )


async def _held(db: Database, page: Page) -> dict[str, list[tuple[Any, ...]]]:
    """(event type, client) of each event; (event type, status) of each delivery; attempts."""
    async with db.unit_of_work(page.tenant_id) as uow:
        s = uow.session
        events = (await s.execute(select(WebhookEvent.type, WebhookEvent.client_id))).all()
        deliveries = (
            await s.execute(select(WebhookDelivery.event_type, WebhookDelivery.status))
        ).all()
        attempts = await s.scalar(select(func.count()).select_from(WebhookAttempt))
    return {
        "events": sorted((t, c) for t, c in events),
        "deliveries": sorted((t, str(st)) for t, st in deliveries),
        "attempts": [(attempts,)],
    }


async def test_finished_history_goes_after_its_period_and_pending_deliveries_stay(
    api: Api,
    settings: Settings,
    db: Database,
    own_queue: Queue,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    page = await make_page()
    async with db.unit_of_work(page.tenant_id) as uow:
        other = Client(tenant_id=page.tenant_id, name=f"client-{uuid.uuid4().hex[:8]}")
        uow.session.add(other)
        await uow.session.flush()
        b = other.id
    a = page.client_id
    # Client b keeps its webhook history 60 days; the tenant (so client a) the default 30.
    r = await api.patch(
        f"/v1/clients/{b}/retention",
        json={"webhook_deliveries_days": 60},
        headers=page.tenant.headers,
    )
    assert r.status_code == 200, r.text

    ok, down = listener(), listener(respond=_refuse)
    good = await create_endpoint(api, page.tenant, ok.url)
    ok.secrets = [good["secret"]]
    bad = await create_endpoint(api, page.tenant, down.url, event_types=["scan.failed"])
    down.secrets = [bad["secret"]]
    await _emit(db, page, a, EventType.SCAN_COMPLETED, EventType.SCAN_FAILED)
    await _emit(db, page, b, EventType.SCAN_COMPLETED)
    await _emit(db, page, None, EventType.ERASURE_COMPLETED)  # of no client: the tenant's
    await run_worker()  # the fast schedule: `down` gets every retry, then the delivery fails

    # One delivery is retrying: its first attempt failed and the next is due in an hour.
    retrying = await create_endpoint(api, page.tenant, down.url, event_types=["connection.revoked"])
    down.secrets = [*down.secrets, retrying["secret"]]
    side_db = Database(settings, own_queue)
    sender = WebhookSender(DeliveryConfig(schedule=(0, 3600), jitter=0), policy_of(settings))
    try:
        await _emit(side_db, page, a, EventType.CONNECTION_REVOKED)
        await deliver_due(
            side_db, Cipher(settings.encryption_keys), sender, page.tenant_id, retrying["id"]
        )
    finally:
        await sender.aclose()
        await side_db.dispose()

    held = await _held(db, page)
    # `good` takes every event: its connection.revoked delivery is pending, not yet tried.
    assert held["deliveries"] == [
        ("connection.revoked", "pending"),
        ("connection.revoked", "pending"),
        ("erasure.completed", "succeeded"),
        ("scan.completed", "succeeded"),
        ("scan.completed", "succeeded"),
        ("scan.failed", "failed"),
        ("scan.failed", "succeeded"),
    ]
    attempts_before = held["attempts"][0][0]
    assert attempts_before > 6  # the failed one's retries and the retrying one's first try
    async with db.unit_of_work(page.tenant_id) as uow:
        pending = (
            await uow.session.scalars(
                select(WebhookDelivery).where(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.endpoint_id == uuid.UUID(retrying["id"]),
                )
            )
        ).one()
        assert pending.attempts == 1 and pending.last_status_code == 500

    def at(days: int) -> Any:
        return lambda: dt.datetime.now(dt.UTC) + days * DAY

    kinds = [WebhookDeliveries()]
    # Within every period: nothing goes.
    result = await purge_tenant(db, page.tenant_id, now=at(29), kinds=kinds, batch=2)
    assert result.counts == {} and result.complete
    assert await _held(db, page) == held

    # Past the tenant's 30 days: client a's finished history and the event of no client go.
    result = await purge_tenant(db, page.tenant_id, now=at(31), kinds=kinds, batch=2)
    # 4 deliveries (their attempts by cascade) and their 3 events.
    assert result.counts == {"webhook_deliveries": 7} and result.complete
    held = await _held(db, page)
    assert held["events"] == sorted([("connection.revoked", a), ("scan.completed", b)])
    assert held["deliveries"] == [
        ("connection.revoked", "pending"),
        ("connection.revoked", "pending"),
        ("scan.completed", "succeeded"),
    ]
    # The retrying delivery's attempt and client b's delivery's attempt are left.
    assert held["attempts"] == [(2,)]

    # Past client b's 60 days: its history goes; the pending delivery stays, however old.
    result = await purge_tenant(db, page.tenant_id, now=at(61), kinds=kinds)
    assert result.counts == {"webhook_deliveries": 2}
    result = await purge_tenant(db, page.tenant_id, now=at(400), kinds=kinds)
    assert result.counts == {}
    held = await _held(db, page)
    assert held == {
        "events": [("connection.revoked", a)],
        "deliveries": [("connection.revoked", "pending"), ("connection.revoked", "pending")],
        "attempts": [(1,)],
    }
    # Audited with the counts, like every purge.
    events = (await api.get("/v1/audit-events", headers=page.tenant.headers)).json()["items"]
    purged = [e for e in events if e["action"] == "retention.purged"]
    assert len(purged) == 2


async def test_the_purge_job_end_to_end(
    api: Api,
    settings: Settings,
    db: Database,
    own_queue: Queue,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    """The hourly job as the worker runs it, on the real clock: history made 31 days ago (its
    rows dated back) goes, today's stays."""
    page = await make_page()
    ok = listener()
    ok.secrets = [(await create_endpoint(api, page.tenant, ok.url))["secret"]]
    await _emit(db, page, page.client_id, EventType.SCAN_COMPLETED, EventType.SCAN_FAILED)
    await run_worker()
    async with db.system_unit_of_work() as uow:
        for model in (WebhookEvent, WebhookDelivery, WebhookAttempt):
            await uow.session.execute(
                update(model)
                .where(model.tenant_id == page.tenant_id)
                .values(created_at=func.now() - text("interval '31 days'"))
            )
    await _emit(db, page, page.client_id, EventType.FINDING_CREATED)
    await run_worker()
    assert len(ok.verified()) == 3

    pctx = PipelineContext.create(settings, db, own_queue)
    try:
        counts = await purge_retention({CONTEXT_KEY: pctx, "job_try": 1}, str(page.tenant_id))
    finally:
        await pctx.close()
    assert counts == {"webhook_deliveries": 4}
    held = await _held(db, page)
    assert held == {
        "events": [("finding.created", page.client_id)],
        "deliveries": [("finding.created", "succeeded")],
        "attempts": [(1,)],
    }
