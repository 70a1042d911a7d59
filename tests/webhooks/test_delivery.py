"""Delivery end to end: the outbox, a real arq worker, real receivers verifying with
standardwebhooks."""

from __future__ import annotations

import collections
import datetime as dt
import threading
from typing import Any

import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text, update

from service.db import Database
from service.queue import Queue
from service.settings import Settings
from service.webhooks.delivery import DeliveryConfig, WebhookSender, policy_of
from service.webhooks.events import CATALOGUE, EventType, json_schema
from service.webhooks.guard import Policy, check_url
from service.webhooks.metrics import ATTEMPTS, DELIVERIES
from service.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from service.webhooks.receiver import Received, WebhookListener
from service.webhooks.service import emit, reconcile_deliveries
from tests.webhooks.conftest import FAST, MakePage, Page, RunWorker, create_endpoint
from tests.webhooks.samples import sample

Api = AsyncTestClient[Litestar]


async def emit_all(db: Database, page: Page, types: list[EventType] | None = None) -> None:
    async with db.unit_of_work(page.tenant_id) as uow:
        for event_type in types or list(EventType):
            emit(
                uow,
                page.tenant_id,
                event_type,
                sample(event_type, page.tenant_id, page.client_id, page.connection_id),
                client_id=page.client_id,
            )


async def endpoint_for(
    api: Api, page: Page, receiver: WebhookListener, **body: Any
) -> dict[str, Any]:
    created = await create_endpoint(api, page.tenant, receiver.url, **body)
    receiver.secrets = [*receiver.secrets, created["secret"]]
    return created


async def test_every_event_type_arrives_signed_with_its_documented_schema(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    await endpoint_for(api, page, receiver)
    await emit_all(db, page)
    await run_worker()

    assert not [r for r in receiver.received if r.event is None], "a request failed verification"
    got = {r.event["type"]: r.event for r in receiver.verified() if r.event}
    assert set(got) == {e.value for e in EventType}
    for event_type in EventType:
        event = got[event_type.value]
        jsonschema.Draft202012Validator(json_schema(event_type)).validate(event)
        assert event["data"]["tenant_id"] == str(page.tenant_id)
    # The served catalogue is the same contract.
    r = await api.get("/v1/webhook-event-types", headers=page.tenant.headers)
    assert r.status_code == 200
    served = {item["name"]: item for item in r.json()["items"]}
    assert set(served) == {e.value for e in EventType}
    assert served["finding.created"]["schema"] == json_schema(EventType.FINDING_CREATED)
    assert (
        served["finding.created"]["description"] == CATALOGUE[EventType.FINDING_CREATED].description
    )


async def test_a_receiver_down_for_a_while_gets_everything_once_per_webhook_id(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    created = await endpoint_for(api, page, receiver)
    port = receiver.port
    receiver.stop()  # down: connections are refused

    await emit_all(db, page, [EventType.FINDING_CREATED] * 20)
    # Two attempts each while it is down, then it comes back on the same port.
    down = DeliveryConfig(schedule=(0, 0.05), jitter=0, stale_after=dt.timedelta(0))
    await run_worker(down)
    async with db.unit_of_work(page.tenant_id) as uow:
        statuses = (
            await uow.session.scalars(
                select(WebhookDelivery.status).where(WebhookDelivery.tenant_id == page.tenant_id)
            )
        ).all()
    assert statuses == [DeliveryStatus.FAILED] * 20

    back = listener(created["secret"], port=port)
    r = await api.post(
        f"/v1/webhook-endpoints/{created['id']}/replay",
        json={"since": "2000-01-01T00:00:00Z"},
        headers=page.tenant.headers,
    )
    assert r.status_code == 202 and r.json() == {"replayed": 20}
    await run_worker()

    ids = collections.Counter(r.webhook_id for r in back.verified())
    assert len(ids) == 20 and set(ids.values()) == {1}
    async with db.unit_of_work(page.tenant_id) as uow:
        rows = (
            await uow.session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.tenant_id == page.tenant_id)
            )
        ).all()
    assert {str(d.id) for d in rows} == set(ids)
    assert all(d.status is DeliveryStatus.SUCCEEDED and d.attempts == 3 for d in rows)


async def test_retries_reuse_the_webhook_id_until_a_2xx(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    failures: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def flaky(received: Received) -> tuple[int, dict[str, str], bytes]:
        with lock:  # each delivery fails twice (503 with a Retry-After of 0), then succeeds
            failures[received.webhook_id] += 1
            if failures[received.webhook_id] <= 2:
                return 503, {"retry-after": "0"}, b"busy"
        return 200, {}, b"ok"

    receiver = listener(respond=flaky)
    await endpoint_for(api, page, receiver)
    await emit_all(db, page, [EventType.SCAN_COMPLETED] * 5)
    await run_worker()

    assert all(r.event is not None for r in receiver.received)
    per_id = collections.Counter(r.webhook_id for r in receiver.received)
    assert len(per_id) == 5 and set(per_id.values()) == {3}
    r = await api.get(f"/v1/webhook-deliveries/{next(iter(per_id))}", headers=page.tenant.headers)
    detail = r.json()
    assert detail["status"] == "succeeded" and detail["attempt_count"] == 3
    assert [a["status_code"] for a in detail["attempts"]] == [503, 503, 200]
    assert detail["attempts"][0]["response_excerpt"] == "busy"
    assert detail["payload"]["type"] == "scan.completed"


async def test_an_endpoint_answering_410_is_disabled_and_the_others_are_told(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    gone = listener(respond=lambda r: (410, {}, b""))
    healthy = listener()
    gone_endpoint = await endpoint_for(api, page, gone)
    await endpoint_for(api, page, healthy)
    before = DELIVERIES.labels("failed")._value.get()

    await emit_all(db, page, [EventType.FINDING_CREATED])
    await run_worker()

    assert len(gone.received) == 1  # not retried
    r = await api.get(f"/v1/webhook-endpoints/{gone_endpoint['id']}", headers=page.tenant.headers)
    assert r.json()["enabled"] is False
    assert "410" in r.json()["disabled_reason"]
    types = [r.event["type"] for r in healthy.verified() if r.event]
    assert sorted(types) == ["finding.created", "webhook_endpoint.disabled"]
    disabled = next(
        r.event
        for r in healthy.verified()
        if r.event and r.event["type"] == "webhook_endpoint.disabled"
    )
    assert disabled["data"]["endpoint_id"] == gone_endpoint["id"]
    assert DELIVERIES.labels("failed")._value.get() == before + 1

    # Events after that do not go to the disabled endpoint; re-enabled, it gets them again.
    await emit_all(db, page, [EventType.SCAN_COMPLETED])
    await run_worker()
    assert len(gone.received) == 1
    r = await api.patch(
        f"/v1/webhook-endpoints/{gone_endpoint['id']}",
        json={"enabled": True},
        headers=page.tenant.headers,
    )
    assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None


async def test_an_endpoint_failing_for_five_days_is_disabled(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    failing = listener(respond=lambda r: (500, {}, b"down"))
    healthy = listener()
    failing_endpoint = await endpoint_for(api, page, failing)
    await endpoint_for(api, page, healthy, event_types=["webhook_endpoint.disabled"])
    async with db.system_unit_of_work() as uow:
        await uow.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == failing_endpoint["id"])
            .values(failing_since=func.now() - text("interval '5 days 1 minute'"))
        )

    await emit_all(db, page, [EventType.FINDING_CREATED])
    await run_worker()

    assert len(failing.received) == 1
    r = await api.get(
        f"/v1/webhook-endpoints/{failing_endpoint['id']}", headers=page.tenant.headers
    )
    assert r.json()["enabled"] is False and "5 days" in r.json()["disabled_reason"]
    assert [r.event["type"] for r in healthy.verified() if r.event] == ["webhook_endpoint.disabled"]


async def test_a_failure_then_a_success_resets_the_failure_streak(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    answers = iter([500, 200])
    receiver = listener(respond=lambda r: (next(answers), {}, b""))
    created = await endpoint_for(api, page, receiver)
    await emit_all(db, page, [EventType.FINDING_CREATED])
    await run_worker()
    r = await api.get(f"/v1/webhook-endpoints/{created['id']}", headers=page.tenant.headers)
    assert r.json()["enabled"] is True and r.json()["failing_since"] is None


async def test_client_endpoints_see_only_their_clients_events(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    bank = await make_page()
    insurer = await make_page(bank.tenant)  # a second client of the same agency
    bank_receiver, agency_receiver = listener(), listener()
    await endpoint_for(api, bank, bank_receiver, client_id=str(bank.client_id))
    await endpoint_for(api, bank, agency_receiver)

    await emit_all(db, bank, [EventType.FINDING_CREATED])
    await emit_all(db, insurer, [EventType.FINDING_CREATED, EventType.SCAN_COMPLETED])
    await run_worker()

    assert [r.event["data"]["client_id"] for r in bank_receiver.verified() if r.event] == [
        str(bank.client_id)
    ]
    assert len(agency_receiver.verified()) == 3


async def test_event_type_filters(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    await endpoint_for(api, page, receiver, event_types=["comment.hidden", "scan.failed"])
    await emit_all(db, page)
    await run_worker()
    assert sorted(r.event["type"] for r in receiver.verified() if r.event) == [
        "comment.hidden",
        "scan.failed",
    ]


async def test_rotation_signs_with_both_secrets_for_a_while(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    created = await endpoint_for(api, page, receiver)
    old = created["secret"]
    r = await api.post(
        f"/v1/webhook-endpoints/{created['id']}/rotate-secret", headers=page.tenant.headers
    )
    assert r.status_code == 200
    new = r.json()["secret"]
    assert new != old and new.startswith("whsec_") and r.json()["previous_secret_expires_at"]

    only_old = WebhookListener(secrets=[old])
    only_new = WebhookListener(secrets=[new])
    await emit_all(db, page, [EventType.COMMENT_HIDDEN])
    await run_worker()
    (got,) = receiver.received
    assert len(got.signature.split(" ")) == 2
    headers = {
        "webhook-id": got.webhook_id,
        "webhook-timestamp": got.timestamp,
        "webhook-signature": got.signature,
    }
    assert only_old.verify(got.body, headers)[0] is not None
    assert only_new.verify(got.body, headers)[0] is not None

    # Once the overlap is over only the new secret signs.
    async with db.system_unit_of_work() as uow:
        await uow.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == created["id"])
            .values(previous_secret_expires_at=func.now() - text("interval '1 second'"))
        )
    await emit_all(db, page, [EventType.COMMENT_HIDDEN])
    await run_worker()
    last = receiver.received[-1]
    headers = {
        "webhook-id": last.webhook_id,
        "webhook-timestamp": last.timestamp,
        "webhook-signature": last.signature,
    }
    assert len(last.signature.split(" ")) == 1
    assert only_new.verify(last.body, headers)[0] is not None
    assert only_old.verify(last.body, headers)[0] is None


async def test_a_rolled_back_change_sends_nothing(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    await endpoint_for(api, page, receiver)
    with pytest.raises(RuntimeError):  # noqa: PT012 (the unit of work is the subject)
        async with db.unit_of_work(page.tenant_id) as uow:
            emit(
                uow,
                page.tenant_id,
                EventType.FINDING_CREATED,
                sample(
                    EventType.FINDING_CREATED, page.tenant_id, page.client_id, page.connection_id
                ),
                client_id=page.client_id,
            )
            raise RuntimeError("the causing change failed")
    # A savepoint that rolls back takes its events with it; the rest of the unit commits.
    async with db.unit_of_work(page.tenant_id) as uow:
        with pytest.raises(RuntimeError):  # noqa: PT012 (the savepoint is the subject)
            async with uow.savepoint():
                emit(
                    uow,
                    page.tenant_id,
                    EventType.SCAN_FAILED,
                    sample(
                        EventType.SCAN_FAILED, page.tenant_id, page.client_id, page.connection_id
                    ),
                    client_id=page.client_id,
                )
                raise RuntimeError("undone")
        emit(
            uow,
            page.tenant_id,
            EventType.SCAN_COMPLETED,
            sample(EventType.SCAN_COMPLETED, page.tenant_id, page.client_id, page.connection_id),
            client_id=page.client_id,
        )
    await run_worker()
    assert [r.event["type"] for r in receiver.verified() if r.event] == ["scan.completed"]
    async with db.unit_of_work(page.tenant_id) as uow:
        count = await uow.session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.tenant_id == page.tenant_id)
        )
    assert count == 1


async def test_reconcile_resends_deliveries_whose_job_was_lost(
    api: Api,
    settings: Settings,
    db: Database,
    queue: Queue,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    page = await make_page()
    receiver = listener()
    await endpoint_for(api, page, receiver)
    # A database handle without a queue: the commit happens, the jobs are lost (as when Redis
    # restarts between the commit and the enqueue).
    lossy = Database(settings, None)
    try:
        await emit_all(lossy, page, [EventType.CONNECTION_NEEDS_REAUTH] * 3)
    finally:
        await lossy.dispose()
    await run_worker()
    assert receiver.received == []

    sent = await reconcile_deliveries(db, queue, FAST)
    assert sent >= 1  # the endpoint is woken once for its three deliveries
    await run_worker()
    assert len({r.webhook_id for r in receiver.verified()}) == 3


async def test_one_slow_endpoint_does_not_hold_up_the_others(
    api: Api,
    settings: Settings,
    db: Database,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    page = await make_page()
    release = threading.Event()
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def stuck(received: Received) -> tuple[int, dict[str, str], bytes]:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        release.wait(30)
        with lock:
            in_flight -= 1
        return 204, {}, b""

    slow = listener(respond=stuck)
    fast = listener()
    fast_endpoint = await endpoint_for(api, page, fast, event_types=["scan.completed"])
    await endpoint_for(api, page, slow, event_types=["finding.created"])
    await emit_all(db, page, [EventType.FINDING_CREATED] * 12 + [EventType.SCAN_COMPLETED] * 12)

    import asyncio

    config = DeliveryConfig(
        schedule=FAST.schedule,
        jitter=0,
        endpoint_concurrency=2,
        stale_after=dt.timedelta(0),
    )
    worker = asyncio.create_task(run_worker(config))
    # Every delivery to the healthy endpoint arrives while the slow one still holds its first two.
    for _ in range(600):
        if len(fast.verified()) == 12:
            break
        await asyncio.sleep(0.05)
    assert len(fast.verified()) == 12
    assert len(slow.received) == 2 and most == 2
    release.set()
    await worker
    assert len({r.webhook_id for r in slow.received}) == 12 and most <= 2
    r = await api.get(
        "/v1/webhook-deliveries",
        params={"endpoint_id": fast_endpoint["id"], "status": "succeeded"},
        headers=page.tenant.headers,
    )
    assert len(r.json()["items"]) == 12


async def test_the_guard_refuses_loopback_at_send_time_in_production(
    api: Api,
    settings: Settings,
    db: Database,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    """Created while loopback was allowed (or after a DNS change): the production sender
    refuses to connect, and the attempt says why."""
    page = await make_page()
    receiver = listener()
    created = await endpoint_for(api, page, receiver)
    production = WebhookSender(
        DeliveryConfig(schedule=(0,), jitter=0, stale_after=dt.timedelta(0)),
        Policy(allow_private=False, https_only=True),
    )
    # The URL is http here: switch it to https so the address check is what refuses it.
    async with db.system_unit_of_work() as uow:
        await uow.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == created["id"])
            .values(url=receiver.url.replace("http://127.0.0.1", "https://localhost"))
        )
    await emit_all(db, page, [EventType.FINDING_CREATED])
    await run_worker(sender=production)
    await production.aclose()
    assert receiver.received == []
    r = await api.get(
        "/v1/webhook-deliveries", params={"endpoint_id": created["id"]}, headers=page.tenant.headers
    )
    (delivery,) = r.json()["items"]
    assert delivery["status"] == "failed"
    assert delivery["last_error"].startswith("refused:") and "loopback" in delivery["last_error"]


async def test_dns_rebinding_is_caught_at_connect_time(
    api: Api,
    settings: Settings,
    db: Database,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    page = await make_page()
    receiver = listener()
    created = await endpoint_for(api, page, receiver)
    async with db.system_unit_of_work() as uow:
        await uow.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == created["id"])
            .values(url=f"http://hooks.example.com:{receiver.port}/")
        )
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)  # public when the URL is checked, loopback when connecting

    production = Policy(allow_private=False, https_only=False)
    await check_url(f"http://hooks.example.com:{receiver.port}/", production, rebinding)
    sender = WebhookSender(
        DeliveryConfig(schedule=(0,), jitter=0, stale_after=dt.timedelta(0)),
        production,
        resolve=rebinding,
    )
    await emit_all(db, page, [EventType.FINDING_CREATED])
    await run_worker(sender=sender)
    await sender.aclose()
    assert receiver.received == []
    r = await api.get(
        "/v1/webhook-deliveries", params={"endpoint_id": created["id"]}, headers=page.tenant.headers
    )
    assert "loopback" in r.json()["items"][0]["last_error"]


async def test_metrics_count_attempts(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    await endpoint_for(api, page, receiver)
    before = ATTEMPTS.labels("succeeded")._value.get()
    await emit_all(db, page, [EventType.FINDING_CREATED] * 2)
    await run_worker()
    assert ATTEMPTS.labels("succeeded")._value.get() == before + 2
    r = await api.get("/metrics")
    assert "wallguard_webhook_attempt_seconds_bucket" in r.text
    assert "wallguard_webhook_oldest_pending_seconds" in r.text


def test_production_policy_of_settings(settings: Settings) -> None:
    assert policy_of(settings) == Policy(allow_private=True, https_only=False)


async def test_a_round_leased_by_a_killed_worker_is_sent_once_its_lease_expires(
    api: Api,
    settings: Settings,
    db: Database,
    queue: Queue,
    make_page: MakePage,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    from service.crypto import Cipher
    from service.webhooks.service import _claim_round

    page = await make_page()
    receiver = listener()
    created = await endpoint_for(api, page, receiver)
    lossy = Database(settings, None)  # the wake-up job is lost too
    try:
        await emit_all(lossy, page, [EventType.FINDING_CREATED] * 3)
    finally:
        await lossy.dispose()
    # A worker leases the round, then dies before sending it.
    leased = await _claim_round(
        db, Cipher(settings.encryption_keys), FAST, page.tenant_id, created["id"], None
    )
    assert not isinstance(leased, str) and len(leased.deliveries) == 3
    await reconcile_deliveries(db, queue, FAST)  # held by the lease: not woken for it
    await run_worker()
    assert receiver.received == []
    async with db.system_unit_of_work() as uow:
        await uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == created["id"])
            .values(lease_until=func.now() - text("interval '1 second'"))
        )
    assert await reconcile_deliveries(db, queue, FAST) >= 1
    await run_worker()
    ids = collections.Counter(r.webhook_id for r in receiver.verified())
    assert len(ids) == 3 and set(ids.values()) == {1}


async def test_retention_purges_finished_deliveries_on_the_real_tables(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    """Retention (service/retention/purge.py) owns webhook history: finished deliveries older
    than the tenant's period go with their attempts and events; a pending one stays."""
    from service.retention.purge import WebhookDeliveries, purge_tenant
    from service.webhooks.models import WebhookAttempt

    page = await make_page()
    receiver = listener()
    await endpoint_for(api, page, receiver)
    await emit_all(db, page, [EventType.SCAN_COMPLETED, EventType.SCAN_FAILED])
    await run_worker()
    async with db.system_unit_of_work() as uow:
        for model in (WebhookEvent, WebhookDelivery, WebhookAttempt):
            await uow.session.execute(
                update(model)
                .where(model.tenant_id == page.tenant_id)
                .values(created_at=func.now() - text("interval '31 days'"))
            )
        await uow.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.tenant_id == page.tenant_id,
                WebhookDelivery.event_type == "scan.failed",
            )
            .values(
                status=DeliveryStatus.PENDING,
                next_attempt_at=func.now() + text("interval '1 hour'"),
            )
        )
    result = await purge_tenant(db, page.tenant_id, kinds=[WebhookDeliveries()])
    assert result.complete
    async with db.unit_of_work(page.tenant_id) as uow:
        left = {
            model.__tablename__: await uow.session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id == page.tenant_id)
            )
            for model in (WebhookEvent, WebhookDelivery, WebhookAttempt)
        }
    assert left == {"webhook_events": 1, "webhook_deliveries": 1, "webhook_attempts": 1}
