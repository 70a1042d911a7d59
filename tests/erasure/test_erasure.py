"""Erasure (art. 17) and subject access (art. 15), end to end through the sandbox: what the
author left is removed, and the next poll, backfill or redelivered webhook brings none of it
back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from service.crypto import Cipher
from service.db import Database
from service.erasure.models import Tombstone
from service.erasure.steps import fail_erasure
from service.findings.models import Finding
from service.inbox.models import InboxEvent
from service.pipeline.context import PipelineContext
from service.pipeline.inbox import accept_delivery
from service.pipeline.polling import poll_once
from service.platforms.signatures import sign_body
from service.queue import JobName, Queue
from service.responses.models import TrackedComment
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.webhooks.delivery import DeliveryConfig
from service.webhooks.events import EventType, json_schema
from service.webhooks.receiver import WebhookListener
from service.workers import jobs as worker_jobs
from service.workers import webhooks_context
from service.workers.jobs import erase_subject, process_inbox_event, run_scan
from tests.conftest import MakeTenant
from tests.helpers import drain, draining_worker
from tests.pipeline.conftest import (
    APP_SECRET,
    comment_state,
    connect_page,
    deliver,
    delivered_changes,
    event_ids,
    rows_containing,
)

pytestmark = [pytest.mark.e2e]

Api = AsyncTestClient[Litestar]
PHONE = "ring mig på 40 52 37 46, det haster"
MAIL = "skriv til mette.k@gmail.com"


async def _findings(db: Database, tenant_id: Any) -> list[Finding]:
    async with db.unit_of_work(tenant_id) as uow:
        return list((await uow.session.scalars(select(Finding))).all())


async def _erase(
    api: Api, ctx: dict[str, Any], headers: dict[str, str], tenant_id: Any, **body: Any
) -> dict[str, Any]:
    r = await api.post("/v1/erasure-requests", json=body, headers=headers)
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["status"] == "pending" and "author_id" not in created
    assert await erase_subject(ctx, str(tenant_id), created["id"]) == "completed"
    # A second run (arq may run a job twice) changes nothing.
    assert await erase_subject(ctx, str(tenant_id), created["id"]) is None
    done = (await api.get(f"/v1/erasure-requests/{created['id']}", headers=headers)).json()
    assert done["status"] == "completed" and done["finished_at"], done
    return dict(done)


async def test_erased_author_is_gone_and_stays_gone(
    sandbox: RunningSandbox,
    receiver: Any,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    ctx: dict[str, Any],
    api: Api,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    store = sandbox.store
    mette = f"Mette Erased {uuid.uuid4().hex[:6]}"
    # Two of Mette's comments come by polling, one by webhook; Ole's stays.
    first = store.add_comment(page.post_id, PHONE, author_name=mette, notify=False)
    second = store.add_comment(first.id, MAIL, author_name=mette, notify=False)
    ole = store.add_comment(
        page.post_id, "min mail: ole.h@outlook.dk", author_name="Ole K", notify=False
    )
    await poll_once(pctx, page.tenant_id, page.connection_id)
    third = store.add_comment(page.post_id, "Mit nummer er 20 12 34 56", author_name=mette)
    body = await deliver(db, settings, receiver, third.id)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    author_id = first.from_id
    assert {f.comment_id for f in await _findings(db, tenant.tenant_id)} == {
        first.id,
        second.id,
        third.id,
        ole.id,
    }

    # Subject access first: what is held, masked.
    r = await api.get(
        "/v1/subject-data",
        params={"platform": "facebook", "author_id": author_id},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    held = r.json()
    assert {f["comment_id"] for f in held["findings"]} == {first.id, second.id, third.id}
    # The delivery that carried her third comment may also carry the hide events of the first
    # two (the sandbox, like Meta, batches changes made in the same moment): each is an event
    # from her that the inbox holds.
    from_her = sum(
        1 for v in delivered_changes(body) if (v.get("from") or {}).get("id") == author_id
    )
    assert from_her >= 1
    assert held["erased"] is False and held["inbox_events"] == from_her
    assert "40 52 37 46" not in r.text and "mette.k@gmail.com" not in r.text
    assert any("•" in f["masked_excerpt"] for f in held["findings"])

    done = await _erase(
        api, ctx, tenant.headers, tenant.tenant_id, platform="facebook", author_id=author_id
    )
    assert done["counts"]["findings"] == 3
    assert done["counts"]["inbox_events"] == from_her
    assert done["counts"]["moderation_actions"] == 3  # the three done hides
    assert done["counts"]["tracked_comments"] == 3  # her comments' response-time rows
    assert done["counts"]["tombstones"] == 4  # the author and three comments
    assert "platform_comments_deleted" not in done["counts"]

    assert {f.comment_id for f in await _findings(db, tenant.tenant_id)} == {ole.id}
    async with db.unit_of_work(tenant.tenant_id) as uow:
        tracked = set((await uow.session.scalars(select(TrackedComment.comment_id))).all())
    assert tracked == {ole.id}
    # Nothing held links to the author any more (tombstones are keyed hashes).
    assert await rows_containing(db, author_id) == []
    for comment in (first, second, third):
        assert await rows_containing(db, comment.id) in ([], ["audit_events"]), await _inbox(
            db, tenant.tenant_id
        )
    # Hidden, not deleted: the comments are still on the page.
    async with api_control(sandbox) as control:
        assert (await comment_state(control, first.id))["is_hidden"] is True

    # The next poll, a backfill and a redelivered webhook bring nothing back.
    await poll_once(pctx, page.tenant_id, page.connection_id)
    assert {f.comment_id for f in await _findings(db, tenant.tenant_id)} == {ole.id}
    r = await api.post(
        "/v1/scans", json={"connection_id": str(page.connection_id)}, headers=tenant.headers
    )
    assert r.status_code == 202, r.text
    assert await run_scan(ctx, str(tenant.tenant_id), r.json()["id"]) == "completed"
    assert {f.comment_id for f in await _findings(db, tenant.tenant_id)} == {ole.id}
    again = await accept_delivery(
        db,
        Cipher(settings.encryption_keys),
        APP_SECRET,
        body,
        sign_body(APP_SECRET, body),
        secret_key=settings.secret_key,
    )
    # Every change of hers in it (her comment, and the hide events the delivery may carry) is
    # dropped; whatever else it carried was stored the first time.
    assert again.erased == from_her and again.stored == 0
    # A new comment by the same author is dropped at the door too.
    fourth = store.add_comment(page.post_id, "ny: 31 41 59 26", author_name=mette)
    await deliver(db, settings, receiver, fourth.id)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    assert {f.comment_id for f in await _findings(db, tenant.tenant_id)} == {ole.id}
    assert await rows_containing(db, author_id) == []

    r = await api.get(
        "/v1/subject-data",
        params={"platform": "facebook", "author_id": author_id},
        headers=tenant.headers,
    )
    after = r.json()
    assert after["erased"] is True and after["findings"] == [] and after["inbox_events"] == 0
    assert after["erasure_requests"] == [done["id"]]

    # Audited, without the author id.
    events = (await api.get("/v1/audit-events", headers=tenant.headers)).json()["items"]
    actions = [e["action"] for e in events]
    assert "erasure.requested" in actions and "erasure.completed" in actions
    assert author_id not in str(events)


async def _inbox(db: Database, tenant_id: Any) -> list[tuple[Any, ...]]:
    async with db.unit_of_work(tenant_id) as uow:
        rows = await uow.session.execute(
            select(
                InboxEvent.field,
                InboxEvent.item,
                InboxEvent.verb,
                InboxEvent.object_id,
                InboxEvent.parent_id,
                InboxEvent.sender_id,
            )
        )
        return [tuple(r) for r in rows.all()]


def api_control(sandbox: RunningSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sandbox.url)


async def test_erasure_by_finding_can_delete_the_comments_on_the_page(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    ctx: dict[str, Any],
    api: Api,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    anna = f"Anna Deleted {uuid.uuid4().hex[:6]}"
    one = sandbox.store.add_comment(page.post_id, PHONE, author_name=anna, notify=False)
    two = sandbox.store.add_comment(page.post_id, MAIL, author_name=anna, notify=False)
    await poll_once(pctx, page.tenant_id, page.connection_id)
    [finding, _] = sorted(
        await _findings(db, tenant.tenant_id), key=lambda f: f.comment_id != one.id
    )

    done = await _erase(
        api,
        ctx,
        tenant.headers,
        tenant.tenant_id,
        finding_id=str(finding.id),
        delete_on_platform=True,
    )
    # The finding's author: both comments, deleted on the page.
    assert done["counts"]["findings"] == 2
    assert done["counts"]["platform_comments_deleted"] == 2
    assert done["counts"]["platform_delete_failed"] == 0
    assert done["platform"] == "facebook" and done["author_ref"]
    async with api_control(sandbox) as control:
        for node in (one, two):
            assert (await comment_state(control, node.id))["deleted"] is True
    assert await _findings(db, tenant.tenant_id) == []
    async with db.unit_of_work(tenant.tenant_id) as uow:
        tombstones = (
            await uow.session.execute(select(func.count()).select_from(Tombstone))
        ).scalar_one()
    assert tombstones == 3


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"platform": "facebook"},
        {"author_id": "123"},
        {"platform": "facebook", "author_id": "123", "finding_id": str(uuid.uuid4())},
        {"platform": "myspace", "author_id": "123"},
        {"platform": "facebook", "author_id": "12 3; drop"},
        {"platform": "facebook", "author_id": "123", "delete_on_platform": "yes"},
    ],
)
async def test_malformed_erasure_requests_are_422(
    api: Api, make_tenant: MakeTenant, body: dict[str, Any]
) -> None:
    tenant = await make_tenant()
    r = await api.post("/v1/erasure-requests", json=body, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/v1/erasure-requests", headers=tenant.headers)).json()["items"] == []


async def test_erasure_requests_are_the_tenants_own(api: Api, make_tenant: MakeTenant) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    r = await api.post(
        "/v1/erasure-requests", json={"finding_id": str(uuid.uuid4())}, headers=tenant.headers
    )
    assert r.status_code == 404
    r = await api.post(
        "/v1/erasure-requests",
        json={"platform": "instagram", "author_id": "17841400000000001"},
        headers=tenant.headers,
    )
    assert r.status_code == 202
    request_id = r.json()["id"]
    assert (
        await api.get(f"/v1/erasure-requests/{request_id}", headers=other.headers)
    ).status_code == 404
    listed = (await api.get("/v1/erasure-requests", headers=tenant.headers)).json()["items"]
    assert [x["id"] for x in listed] == [request_id]
    r = await api.post(
        "/v1/api-keys", json={"name": "r", "scopes": ["read"]}, headers=tenant.headers
    )
    read = {"Authorization": f"Bearer {r.json()['secret']}"}
    assert (await api.get("/v1/erasure-requests", headers=read)).status_code == 403
    r = await api.get("/v1/subject-data", params={"platform": "facebook"}, headers=tenant.headers)
    assert r.status_code == 400 or r.status_code == 422


async def test_erasure_outcomes_are_sent_to_the_tenants_endpoints_with_ids_and_counts_only(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    queue: Queue,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    ctx: dict[str, Any],
    api: Api,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    name = f"Bo Notified {uuid.uuid4().hex[:6]}"
    one = sandbox.store.add_comment(page.post_id, PHONE, author_name=name, notify=False)
    two = sandbox.store.add_comment(page.post_id, MAIL, author_name=name, notify=False)
    await poll_once(pctx, page.tenant_id, page.connection_id)
    author_id = one.from_id

    # A tenant-wide endpoint gets erasure events; one limited to a client does not (a request
    # spans the tenant's clients).
    tenant_wide, client_only = (
        WebhookListener(secrets=[]).start(),
        WebhookListener(secrets=[]).start(),
    )
    try:
        for receiver, extra in ((tenant_wide, {}), (client_only, {"client_id": page.client_id})):
            r = await api.post(
                "/v1/webhook-endpoints",
                json={"url": receiver.url, **{k: str(v) for k, v in extra.items()}},
                headers=tenant.headers,
            )
            assert r.status_code == 201, r.text
            receiver.secrets = [r.json()["secret"]]

        done = await _erase(
            api, ctx, tenant.headers, tenant.tenant_id, platform="facebook", author_id=author_id
        )
        r = await api.post(
            "/v1/erasure-requests",
            json={"platform": "facebook", "author_id": "1234567"},
            headers=tenant.headers,
        )
        assert r.status_code == 202, r.text
        doomed = r.json()["id"]
        # The job's last try gave up on it.
        await fail_erasure(db, tenant.tenant_id, uuid.UUID(doomed), "OperationalError")
        await fail_erasure(db, tenant.tenant_id, uuid.UUID(doomed), "OperationalError")
        await _deliver_webhooks(settings, db, queue)

        assert not [x for x in tenant_wide.received if x.event is None], "failed verification"
        got = {x.event["type"]: x for x in tenant_wide.verified() if x.event}
        assert sorted(got) == ["erasure.completed", "erasure.failed"]
        assert len(tenant_wide.verified()) == 2  # a second fail_erasure sends nothing
        for event_type, received in got.items():
            jsonschema.Draft202012Validator(json_schema(EventType(event_type))).validate(
                received.event
            )
        completed = got["erasure.completed"].event
        assert completed is not None
        assert completed["data"]["erasure_request_id"] == done["id"]
        assert completed["data"]["tenant_id"] == str(tenant.tenant_id)
        assert completed["data"]["counts"] == {
            "findings": 2,
            "inbox_events": 0,
            "moderation_actions": 2,
            "tombstones": 3,
            "platform_comments_deleted": None,
            "platform_delete_failed": None,
        }
        assert completed["data"]["error"] is None
        assert completed["data"]["url"].endswith(f"/v1/erasure-requests/{done['id']}")
        failed = got["erasure.failed"].event
        assert failed is not None
        assert failed["data"]["erasure_request_id"] == doomed
        assert failed["data"]["counts"] is None
        assert failed["data"]["error"] == "OperationalError"
        # Whom or what was erased is not said: no author id, keyed hash or comment id.
        for received in got.values():
            for secret in (author_id, done["author_ref"], one.id, two.id, "1234567", name):
                assert secret not in received.body.decode()
        assert client_only.received == []
    finally:
        tenant_wide.stop()
        client_only.stop()


async def _deliver_webhooks(settings: Settings, db: Database, queue: Queue) -> None:
    """A real worker with the webhook delivery job runs what the erasures queued."""
    config = DeliveryConfig(schedule=(0, 0.05), jitter=0)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(settings=settings, db=db, queue=queue, webhook_config=config)
        await webhooks_context.webhooks_startup(ctx)

    deliver = [f for f in worker_jobs.FUNCTIONS if f.name == JobName.DELIVER_WEBHOOKS.value]
    await drain(draining_worker(settings, deliver, startup, webhooks_context.webhooks_shutdown))
