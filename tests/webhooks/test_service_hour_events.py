"""response.overdue, storm.started and storm.ended arrive through the outbound webhooks: the
tracker and the storm watcher (with an injected clock) emit them, a real arq worker delivers
them, a real receiver verifies their signatures and their documented schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.connections.models import Connection
from service.db import Database
from service.platforms.comments import CommentView
from service.responses.service import observe_comments
from service.responses.steps import track_responses
from service.storms.steps import watch_storms
from service.webhooks.events import EventType, json_schema
from tests.webhooks.conftest import MakePage, Page, RunWorker, create_endpoint

Api = AsyncTestClient[Litestar]
T0 = dt.datetime(2026, 10, 1, 10, 0, tzinfo=dt.UTC)
STORM = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)


def view(connection: Connection, comment_id: str, when: dt.datetime, **extra: Any) -> CommentView:
    values: dict[str, Any] = {
        "comment_id": comment_id,
        "post_id": "123_456",
        "parent_id": "123_456",
        "message": "Hvornår kommer mit internet tilbage?",
        "author_id": "5000000000000001",
        "created_time": when,
        "permalink_url": None,
        **extra,
    }
    return CommentView(**values)


async def observe(db: Database, page: Page, make: Any) -> None:
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        await observe_comments(uow, connection, make(connection), received_at=T0)


async def test_overdue_and_storm_events_arrive_signed_once_each(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener()
    created = await create_endpoint(
        api,
        page.tenant,
        receiver.url,
        event_types=["response.overdue", "storm.started", "storm.ended"],
    )
    receiver.secrets = [created["secret"]]
    everyday = {"opens": "00:00", "closes": "24:00"}
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    r = await api.put(
        f"/v1/clients/{page.client_id}/service-hours",
        json={
            "time_zone": "Europe/Copenhagen",
            "weekly": {day: [everyday] for day in days},
            "first_response_minutes": 60,
        },
        headers=page.tenant.headers,
    )
    assert r.status_code == 200, r.text

    await observe(
        db,
        page,
        lambda c: [
            view(c, "o1", T0),  # never answered
            view(c, "o2", T0),  # answered 90 minutes later: late
            view(c, "r2", T0 + dt.timedelta(minutes=90), parent_id="o2", author_id=c.external_id),
            view(c, "o3", T0),  # answered in time
            view(c, "r3", T0 + dt.timedelta(minutes=30), parent_id="o3", author_id=c.external_id),
        ],
    )
    # Forty comments in the two minutes before STORM on a page never seen before.
    await observe(
        db,
        page,
        lambda c: [
            view(c, f"s{i}", STORM - dt.timedelta(seconds=3 * i), post_id="123_999")
            for i in range(40)
        ],
    )
    assert (await track_responses(db, now=T0 + dt.timedelta(hours=2))).overdue >= 2
    assert (await track_responses(db, now=T0 + dt.timedelta(hours=2, seconds=15))).overdue == 0
    assert (await watch_storms(db, now=STORM)).started
    # Nothing more for 16 minutes: the rate has fallen for longer than QUIET.
    assert (await watch_storms(db, now=STORM + dt.timedelta(minutes=16))).ended
    await run_worker()

    assert not [r for r in receiver.received if r.event is None], "a request failed verification"
    events = [r.event for r in receiver.verified() if r.event]
    for event in events:
        jsonschema.Draft202012Validator(json_schema(EventType(event["type"]))).validate(event)
        assert event["data"]["tenant_id"] == str(page.tenant_id)
    overdue = sorted(e["data"]["comment_id"] for e in events if e["type"] == "response.overdue")
    assert overdue == ["o1", "o2"]
    late = next(e for e in events if e["data"].get("comment_id") == "o2")
    assert late["data"]["first_reply_at"] is not None and late["data"]["promise_minutes"] == 60
    # Deliveries run concurrently: their order on arrival is not the order of the events.
    storms = {e["type"]: e["data"] for e in events if e["type"].startswith("storm.")}
    assert len([e for e in events if e["type"].startswith("storm.")]) == 2
    started, ended = storms["storm.started"], storms["storm.ended"]
    assert started["posts"][0]["post_id"] == "123_999" and started["status"] == "active"
    assert started["storm_id"] == ended["storm_id"]
    assert ended["status"] == "ended" and ended["ended_at"]
