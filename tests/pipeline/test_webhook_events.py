"""The producers: what the pipeline, moderation, scans, connections and reviews do reaches a
tenant's webhook endpoint, signed, in its documented schema, without a raw personal value."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.connections.models import Connection
from service.connections.service import mark_needs_reauth
from service.db import Database
from service.pipeline.actions import perform_pending_actions
from service.policies.models import PolicyMode
from service.queue import JobName, Queue
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.webhooks.delivery import DeliveryConfig
from service.webhooks.events import EventType, json_schema
from service.webhooks.receiver import WebhookListener
from service.workers import jobs as worker_jobs
from service.workers import webhooks_context
from service.workers.jobs import run_scan
from tests.conftest import MakeTenant
from tests.helpers import drain, draining_worker
from tests.pipeline.conftest import connect_page
from tests.pipeline.test_batches import PHONE, add, handle_page
from tests.pipeline.test_realtime import set_mode

pytestmark = [pytest.mark.e2e]

Api = AsyncTestClient[Litestar]


async def deliver_webhooks(settings: Settings, db: Database, queue: Queue) -> None:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(
            settings=settings,
            db=db,
            queue=queue,
            webhook_config=DeliveryConfig(
                schedule=(0, 0.05), jitter=0, stale_after=dt.timedelta(0)
            ),
        )
        await webhooks_context.webhooks_startup(ctx)

    await drain(
        draining_worker(
            settings,
            [f for f in worker_jobs.FUNCTIONS if f.name == JobName.DELIVER_WEBHOOKS.value],
            startup,
            webhooks_context.webhooks_shutdown,
        )
    )


async def test_pipeline_moderation_scans_connections_and_reviews_send_their_events(
    api: Api,
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    queue: Queue,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    h = tenant.headers
    page = await connect_page(
        db, settings, sandbox, tenant.tenant_id, private_channel_url="https://example.com/chat"
    )
    pctx = ctx["pipeline"]
    with WebhookListener(secrets=[]) as receiver:
        r = await api.post("/v1/webhook-endpoints", json={"url": receiver.url}, headers=h)
        assert r.status_code == 201, r.text
        receiver.secrets = [r.json()["secret"]]

        # finding.created, comment.hidden, comment.replied
        await set_mode(db, page, PolicyMode.HIDE_AND_REPLY)
        comments = [add(sandbox, page, f"{PHONE} ({i})") for i in range(2)]
        outcomes = await handle_page(pctx, page, comments)
        action_ids = [a for o in outcomes for a in o.action_ids]  # type: ignore[attr-defined]
        await perform_pending_actions(pctx, page.tenant_id, action_ids)
        # comment.hide_failed: the comment is gone before its hide.
        gone = add(sandbox, page, PHONE + " (gone)")
        outcomes = await handle_page(pctx, page, [gone])
        sandbox.store.delete_node(gone.comment_id)
        await perform_pending_actions(
            pctx,
            page.tenant_id,
            [a for o in outcomes for a in o.action_ids],  # type: ignore[attr-defined]
        )
        # finding.confirmed, comment.unhidden (through the API, as a reviewer does)
        findings = (await api.get("/v1/findings", params={"status": "hidden"}, headers=h)).json()[
            "items"
        ]
        first, second = findings[0]["id"], findings[1]["id"]
        assert (await api.post(f"/v1/findings/{first}/confirm", headers=h)).status_code == 200
        unhide = await api.post(f"/v1/findings/{second}/unhide", headers=h)
        await perform_pending_actions(pctx, page.tenant_id, [unhide.json()["action"]["id"]])
        # scan.completed
        scan = await api.post(
            "/v1/scans", json={"connection_id": str(page.connection_id)}, headers=h
        )
        assert scan.status_code in {201, 202}, scan.text
        assert await run_scan(ctx, str(tenant.tenant_id), scan.json()["id"]) == "completed"
        # connection.needs_reauth, connection.revoked
        async with db.unit_of_work(tenant.tenant_id) as uow:
            connection = await uow.session.get(Connection, (tenant.tenant_id, page.connection_id))
            assert connection is not None
            await mark_needs_reauth(uow, connection, "token expired", "test")
        assert (
            await api.delete(f"/v1/connections/{page.connection_id}", headers=h)
        ).status_code in {200, 204}

        await deliver_webhooks(settings, db, queue)

    assert all(r.event is not None for r in receiver.received), [r.error for r in receiver.received]
    events = [r.event for r in receiver.received if r.event is not None]
    types = sorted(e["type"] for e in events)
    for expected in [
        "finding.created",
        "comment.hidden",
        "comment.replied",
        "comment.hide_failed",
        "finding.confirmed",
        "comment.unhidden",
        "scan.completed",
        "connection.needs_reauth",
        "connection.revoked",
    ]:
        assert expected in types, (expected, types)
    assert types.count("finding.created") == 3 and types.count("comment.hidden") == 2
    assert types.count("comment.replied") == 2 and types.count("comment.hide_failed") == 1
    for event in events:
        jsonschema.Draft202012Validator(json_schema(EventType(event["type"]))).validate(event)
        assert event["data"]["tenant_id"] == str(tenant.tenant_id)
        if "client_id" in event["data"]:
            assert event["data"]["client_id"] == str(page.client_id)
    created = next(e for e in events if e["type"] == "finding.created")
    assert created["data"]["url"].endswith(f"/v1/findings/{created['data']['finding_id']}")
    assert (
        created["data"]["entities"][0]["masked"].startswith("•")
        or "•" in created["data"]["entities"][0]["masked"]
    )
    failed = next(e for e in events if e["type"] == "comment.hide_failed")
    assert failed["data"]["comment_id"] == gone.comment_id and failed["data"]["error"]
    # The phone number never leaves in clear (in any spacing).
    for got in receiver.received:
        assert b"40 52 37 46" not in got.body and b"40523746" not in got.body
