"""Instagram in real time, end to end: the real API (uvicorn) connected to the platform sandbox
through OAuth, the app's webhooks registered as `wallguard meta subscribe-webhook` does, an
Instagram comment posted in the sandbox, Meta's signed ``instagram``/``comments`` webhook to
``/webhooks/meta``, a real arq worker started like `wallguard worker`, and the hide through
``POST /{ig-comment-id}?hide=true``. Real Postgres, real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from sqlalchemy import select

from service.connections.graph import graph_client, subscribe_app_webhooks
from service.connections.service import webhook_url
from service.db import Database
from service.inbox.models import InboxEvent, InboxStatus
from service.platforms.signatures import SIGNATURE_HEADER, sign_body
from service.sandbox import RunningSandbox, SandboxConfig
from service.settings import Settings
from service.workers import jobs, main
from tests.conftest import MakeTenant
from tests.helpers import ApiServer, drain, draining_worker

pytestmark = [pytest.mark.e2e]

APP_ID, APP_SECRET, VERIFY = "wg-ig-app", "wg-ig-secret", "wg-ig-verify"
PHONE, EMAIL = "40 52 37 46", "mette.kunde@gmail.com"
LEAKY = f"Ring til mig på {PHONE} eller skriv til {EMAIL}, jeg venter stadig!"
INNOCENT = "Hvornår kommer den nye model i butikkerne?"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Ids of their own: other modules' sandboxes number from 1, and their connections stay in
    # the shared database (an event for the same page id would reach their tenants too).
    config = SandboxConfig(
        app_id=APP_ID, app_secret=APP_SECRET, pages=1, link_instagram=True, id_offset=7_000_000
    )
    with RunningSandbox(config) as running:
        yield running


@pytest.fixture(scope="module")
def api(sandbox: RunningSandbox, database_url: str) -> Iterator[ApiServer]:
    with ApiServer.for_sandbox(database_url, sandbox.url, APP_ID, APP_SECRET, VERIFY) as server:
        yield server


async def run_worker(settings: Settings) -> Worker:
    """The worker's own startup (its Database, Queue and GraphClient from settings) with the
    real-time jobs, until the queue is empty. No crons: nothing but the webhook acts here."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        await main.startup(ctx)

    worker: Worker = await drain(draining_worker(settings, jobs.FUNCTIONS, startup, main.shutdown))
    return worker


async def delivered(control: httpx.AsyncClient, comment_ids: set[str]) -> list[dict[str, Any]]:
    """The sandbox's deliveries that carried these comments and were answered 200 (so stored,
    committed and enqueued by the API)."""
    for _ in range(500):
        deliveries = (await control.get("/_sandbox/webhooks/deliveries")).json()
        answered = [d for d in deliveries if d["status"] == 200]
        if all(any(c in d["body"] for d in answered) for c in comment_ids):
            return [d for d in answered if any(c in d["body"] for c in comment_ids)]
        await asyncio.sleep(0.02)
    raise AssertionError(f"the sandbox did not deliver {comment_ids}: {deliveries}")


async def ig_hide_calls(control: httpx.AsyncClient, comment_id: str) -> list[dict[str, Any]]:
    calls = (await control.get("/_sandbox/calls", params={"method": "POST"})).json()
    return [c for c in calls if c["path"].endswith("/" + comment_id)]


async def test_an_instagram_comment_exposing_personal_data_is_hidden_once_by_webhook(
    api: ApiServer, sandbox: RunningSandbox, make_tenant: MakeTenant, db: Database
) -> None:
    tenant = await make_tenant()
    async with (
        httpx.AsyncClient(base_url=api.url, headers=tenant.headers, timeout=30) as http,
        httpx.AsyncClient(base_url=sandbox.url, timeout=30) as control,
    ):
        client = (await http.post("/v1/clients", json={"name": "Nordlys", "country": "DK"})).json()
        started = await http.post("/v1/connections/oauth/start", json={"client_id": client["id"]})
        assert started.status_code == 201, started.text
        async with httpx.AsyncClient(timeout=30, follow_redirects=True) as browser:
            done = await browser.get(started.json()["authorization_url"])
        assert done.status_code == 200, done.text
        connections = {c["platform"]: c for c in done.json()["connections"]}
        instagram, facebook = connections["instagram"], connections["facebook"]
        assert instagram["status"] == "active"
        ig_user_id = instagram["external_id"]
        async with graph_client(api.settings) as graph:
            registered = await subscribe_app_webhooks(graph, webhook_url(api.settings), VERIFY)
        assert registered == {"page": None, "instagram": None}

        media = await control.post(f"/_sandbox/ig/{ig_user_id}/media", json={"caption": "Nyt"})
        media_id = media.json()["id"]
        comment_ids = {}
        for name, text in (("leaky", LEAKY), ("innocent", INNOCENT)):
            posted = await control.post(
                f"/_sandbox/objects/{media_id}/comments",
                json={"author_name": "Mette Kunde", "message": text},
            )
            assert posted.status_code == 201, posted.text
            assert posted.json()["kind"] == "ig_comment"
            comment_ids[name] = posted.json()["id"]
        leaky, innocent = comment_ids["leaky"], comment_ids["innocent"]

        deliveries = await delivered(control, {leaky, innocent})
        assert all('"object":"instagram"' in d["body"] for d in deliveries)
        worker = await run_worker(api.settings)
        # The comments carry their text: the connection's drain jobs take them (one per 100 ms
        # window with deliveries in it), not one job per comment.
        assert 1 <= worker.jobs_complete <= len(deliveries) and worker.jobs_failed == 0

        state = (await control.get(f"/_sandbox/comments/{leaky}")).json()
        assert state["is_hidden"] is True and state["hide_calls"] == 1
        [hide] = await ig_hide_calls(control, leaky)
        assert hide["status"] == 200 and hide["params"]["hide"] == "true"
        untouched = (await control.get(f"/_sandbox/comments/{innocent}")).json()
        assert untouched["is_hidden"] is False and untouched["hide_calls"] == 0
        assert await ig_hide_calls(control, innocent) == []

        found = await http.get("/v1/findings", params={"connection_id": instagram["id"]})
        [finding] = found.json()["items"]
        assert finding["comment_id"] == leaky and finding["post_id"] == media_id
        assert finding["status"] == "hidden" and finding["source"] == "realtime"
        assert {"PHONE_NUMBER", "EMAIL_ADDRESS"} <= set(finding["types"])
        assert finding["by_page"] is False and finding["hidden_at"] is not None
        assert PHONE not in finding["masked_excerpt"] and EMAIL not in finding["masked_excerpt"]
        others = await http.get("/v1/findings", params={"connection_id": facebook["id"]})
        assert others.json()["items"] == []

        async with db.unit_of_work(tenant.tenant_id) as uow:
            events = (
                await uow.session.scalars(
                    select(InboxEvent).where(InboxEvent.connection_id == instagram["id"])
                )
            ).all()
        assert sorted(e.object_id or "" for e in events) == sorted([leaky, innocent])
        assert {(e.field, e.post_id, e.status) for e in events} == {
            ("comments", media_id, InboxStatus.DONE)
        }

        # Meta delivers the same body again: recognised, nothing is hidden a second time.
        body = next(d["body"] for d in deliveries if leaky in d["body"]).encode()
        again = await http.post(
            "/webhooks/meta",
            content=body,
            headers={SIGNATURE_HEADER: sign_body(APP_SECRET, body)},
        )
        assert again.status_code == 200 and again.json()["stored"] == 0
        assert (await run_worker(api.settings)).jobs_complete == 0
        assert (await control.get(f"/_sandbox/comments/{leaky}")).json()["hide_calls"] == 1
        assert len(await ig_hide_calls(control, leaky)) == 1
