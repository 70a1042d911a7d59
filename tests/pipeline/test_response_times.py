"""Service hours through the API, and response times end to end: comments and page replies
through the pipeline's ``handle_comments`` (the path of webhooks, polls and scans), the tracker
cron with an injected clock, the reports and ``/v1/unanswered``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.auth.types import Principal, Scope
from service.connections.models import Connection
from service.db import Database, utcnow
from service.findings.models import FindingSource
from service.moderation.models import ActionKind, ActionStatus, ModerationAction
from service.pipeline.comments import CommentView, handle_comments
from service.pipeline.context import PipelineContext
from service.responses.models import TrackedComment
from service.responses.service import ResponseService
from service.responses.steps import track_responses
from service.sandbox import RunningSandbox
from service.settings import Settings
from tests.conftest import MakeTenant, TenantHandle
from tests.pipeline.conftest import Page, connect_page

pytestmark = [pytest.mark.e2e]

Api = AsyncTestClient[Litestar]
HEL = ZoneInfo("Europe/Helsinki")
CUSTOMER = "5000000000000001"
HOURS_7_22: dict[str, Any] = {
    "time_zone": "Europe/Helsinki",
    "weekly": {
        day: [{"opens": "07:00", "closes": "22:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    },
    "holidays": ["2026-12-25"],
    "exceptions": [{"date": "2026-12-24", "hours": [{"opens": "09:00", "closes": "12:00"}]}],
    "first_response_minutes": 60,
}


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=HEL).astimezone(dt.UTC)


def comment(
    page: Page,
    comment_id: str,
    when: dt.datetime,
    *,
    parent: str | None = None,
    by_page: bool = False,
    message: str = "Hvornår kommer mit internet tilbage?",
) -> CommentView:
    return CommentView(
        comment_id=comment_id,
        post_id=page.post_id,
        parent_id=parent or page.post_id,
        message=message,
        author_id=page.page_id if by_page else CUSTOMER,
        created_time=when,
        permalink_url=None,
    )


async def through_pipeline(pctx: PipelineContext, page: Page, comments: list[CommentView]) -> None:
    async with pctx.db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        await handle_comments(
            pctx, uow, connection, comments, source=FindingSource.POLL, received_at=utcnow()
        )


def principal(tenant: TenantHandle) -> Principal:
    return Principal(
        tenant_id=tenant.tenant_id, api_key_id=uuid.uuid4(), scopes=frozenset({Scope.ADMIN})
    )


async def rows(db: Database, page: Page) -> dict[str, TrackedComment]:
    async with db.unit_of_work(page.tenant_id) as uow:
        found = (
            await uow.session.scalars(
                select(TrackedComment).where(TrackedComment.connection_id == page.connection_id)
            )
        ).all()
    return {r.comment_id: r for r in found}


async def test_service_hours_api_validates_stores_and_overrides(
    api: Api, db: Database, settings: Settings, sandbox: RunningSandbox, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    h = tenant.headers
    client_url = f"/v1/clients/{page.client_id}/service-hours"
    default = (await api.get(client_url, headers=h)).json()
    assert default["stored"] is False and default["first_response_minutes"] is None
    assert default["weekly"]["sunday"] == [{"opens": "00:00", "closes": "24:00"}]

    r = await api.put(client_url, json=HOURS_7_22, headers=h)
    assert r.status_code == 200, r.text
    stored = r.json()
    assert stored["stored"] is True and stored["time_zone"] == "Europe/Helsinki"
    assert stored["holidays"] == ["2026-12-25"]
    assert (await api.get(client_url, headers=h)).json() == stored

    conn_url = f"/v1/connections/{page.connection_id}/service-hours"
    assert (await api.get(conn_url, headers=h)).status_code == 404
    effective = (await api.get(f"{conn_url}/effective", headers=h)).json()
    assert effective["source"] == "client" and effective["hours"]["first_response_minutes"] == 60

    own = {
        "time_zone": "Europe/Copenhagen",
        "weekly": {"monday": [{"opens": "08:00", "closes": "16:00"}]},
    }
    r = await api.put(conn_url, json={**own, "first_response_minutes": 120}, headers=h)
    assert r.status_code == 200, r.text
    effective = (await api.get(f"{conn_url}/effective", headers=h)).json()
    assert effective["source"] == "connection"
    assert effective["hours"]["weekly"]["tuesday"] == []  # replaced as a whole, not merged
    assert (await api.delete(conn_url, headers=h)).status_code == 204
    assert (await api.get(f"{conn_url}/effective", headers=h)).json()["source"] == "client"

    other = await make_tenant()
    assert (await api.get(client_url, headers=other.headers)).status_code == 404
    assert (await api.put(conn_url, json=own, headers=other.headers)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"time_zone": "Europe/Atlantis"}, "$.time_zone", "unknown time zone"),
        ({"time_zone": "../../etc/passwd"}, "$.time_zone", "unknown time zone"),
        (
            {"weekly": {"monday": [{"opens": "22:00", "closes": "07:00"}]}},
            "$.weekly.monday[0]",
            "must be after",
        ),
        (
            {
                "weekly": {
                    "monday": [
                        {"opens": "07:00", "closes": "12:00"},
                        {"opens": "11:00", "closes": "16:00"},
                    ]
                }
            },
            "$.weekly.monday",
            "overlap",
        ),
        ({"holidays": ["2026-12-25", "2026-12-25"]}, "$.holidays[1]", "twice"),
        ({"exceptions": [{"date": "2026-12-25", "hours": []}]}, "$.exceptions[0].date", "holiday"),
        ({"weekly": {}}, "$.weekly", "no weekday has opening hours"),
    ],
)
async def test_invalid_service_hours_are_422_with_the_field(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    change: dict[str, Any],
    field: str,
    words: str,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    r = await api.put(
        f"/v1/clients/{page.client_id}/service-hours",
        json={**HOURS_7_22, **change},
        headers=tenant.headers,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    "body",
    [
        {**HOURS_7_22, "weekly": {"monday": [{"opens": "7:00", "closes": "22:00"}]}},
        {**HOURS_7_22, "first_response_minutes": 0},
        {**HOURS_7_22, "weekly": {"funday": []}},
        {"weekly": HOURS_7_22["weekly"]},
    ],
)
async def test_malformed_service_hours_are_4xx_never_500(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    body: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    r = await api.put(
        f"/v1/clients/{page.client_id}/service-hours", json=body, headers=tenant.headers
    )
    assert r.status_code in {400, 422}, r.text
    assert r.json()["errors"]


async def setup_conversations(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    pctx: PipelineContext,
    tenant: TenantHandle,
) -> Page:
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    r = await api.put(
        f"/v1/clients/{page.client_id}/service-hours", json=HOURS_7_22, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    # The page's reply to c1 is seen first (a poll can deliver it before the comment).
    await through_pipeline(
        pctx, page, [comment(page, "r1", local(2026, 6, 11, 7, 10), parent="c1", by_page=True)]
    )
    await through_pipeline(
        pctx,
        page,
        [
            comment(page, "c1", local(2026, 6, 10, 21, 50)),  # answered 07:10: 20 min
            comment(page, "c2", local(2026, 6, 11, 10, 0)),  # answered 11:30: 90 min, late
            comment(page, "r2", local(2026, 6, 11, 11, 30), parent="c2", by_page=True),
            comment(page, "c3", local(2026, 6, 11, 12, 0)),  # never answered
            comment(page, "c5", local(2026, 6, 11, 13, 10)),  # waiting
            # Hidden for personal data: no longer awaits a public reply.
            comment(page, "c6", local(2026, 6, 11, 13, 15), message="Ring på 40 52 37 46"),
            # Wallguard's automatic reply in c5's thread: not the team's answer.
            comment(page, "a1", local(2026, 6, 11, 13, 20), parent="c5", by_page=True),
            # The page's own post-level comment and a sticker: not customer comments.
            comment(page, "p1", local(2026, 6, 11, 9, 0), by_page=True),
            comment(page, "s1", local(2026, 6, 11, 9, 5), message="  "),
        ],
    )
    async with db.unit_of_work(page.tenant_id) as uow:
        uow.session.add(
            ModerationAction(
                tenant_id=page.tenant_id,
                connection_id=page.connection_id,
                finding_id=None,
                comment_id="c6",
                kind=ActionKind.REPLY,
                status=ActionStatus.DONE,
                result_id="a1",
                requested_by="wallguard",
            )
        )
    return page


async def test_response_times_in_service_hours_breaches_and_unanswered(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await setup_conversations(api, db, settings, sandbox, pctx, tenant)
    tracked = await rows(db, page)
    assert set(tracked) == {"r1", "r2", "p1", "a1", "c1", "c2", "c3", "c5", "c6"}
    assert all(not r.processed for r in tracked.values())  # the hot path only inserts

    now = local(2026, 6, 11, 13, 30)
    outcome = await track_responses(db, now=now)
    assert outcome.processed >= 9
    tracked = await rows(db, page)
    assert tracked["c1"].response_seconds == 20 * 60 and tracked["c1"].reply_comment_id == "r1"
    assert tracked["c2"].response_seconds == 90 * 60
    assert tracked["c3"].first_reply_at is None
    assert tracked["c3"].deadline_at == local(2026, 6, 11, 13, 0)
    # Broken promises are marked once: c2 (answered late) and c3 (past its deadline).
    assert {k for k, r in tracked.items() if r.overdue_at is not None} == {"c2", "c3"}
    assert (await track_responses(db, now=now)).overdue == 0

    since, until = local(2026, 6, 10, 0, 0), local(2026, 6, 12, 0, 0)
    async with db.unit_of_work(page.tenant_id) as uow:
        report = await ResponseService(uow, now=now).response_times(
            principal(tenant),
            client_id=None,
            connection_id=page.connection_id,
            since=since,
            until=until,
        )
        waiting = await ResponseService(uow, now=now).unanswered(
            principal(tenant), client_id=page.client_id, connection_id=None, cursor=None, limit=1
        )
    total = report.total
    assert (total.comments, total.answered, total.promised) == (4, 2, 4)
    assert total.share_answered == 0.5
    assert total.p50_seconds == 3300.0 and total.p90_seconds == 4980.0
    assert (total.within_promise, total.breaches, total.share_within_promise) == (1, 2, 0.3333)
    assert [f.connection_id for f in report.by_connection] == [page.connection_id]
    # Oldest first, one per page: c3 is 30 service minutes past its deadline.
    assert [w.comment_id for w in waiting.items] == ["c3"] and waiting.next_cursor
    assert waiting.items[0].time_left_seconds == -1800.0 and waiting.items[0].overdue
    async with db.unit_of_work(page.tenant_id) as uow:
        rest = await ResponseService(uow, now=now).unanswered(
            principal(tenant),
            client_id=None,
            connection_id=None,
            cursor=waiting.next_cursor,
            limit=10,
        )
    assert [w.comment_id for w in rest.items] == ["c5"] and rest.next_cursor is None
    assert rest.items[0].time_left_seconds == 40 * 60 and not rest.items[0].overdue
    assert rest.items[0].waiting_seconds == 20 * 60

    # An hour later c5's promise breaks too, once.
    assert (await track_responses(db, now=now + dt.timedelta(hours=1))).overdue == 1

    # Through the API (its clock is the real one: c5's deadline is long past by now).
    r = await api.get(
        "/v1/response-times",
        params={
            "connection_id": str(page.connection_id),
            "since": since.isoformat(),
            "until": until.isoformat(),
        },
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"]["comments"] == 4 and body["total"]["breaches"] == 3
    assert body["unanswered_url"] == f"/v1/unanswered?connection_id={page.connection_id}"
    r = await api.get("/v1/unanswered", params={"limit": 5}, headers=tenant.headers)
    assert [i["comment_id"] for i in r.json()["items"]] == ["c3", "c5"]
    assert (
        await api.get("/v1/unanswered", params={"cursor": "nope"}, headers=tenant.headers)
    ).status_code == 400
    r = await api.get(
        "/v1/response-times",
        params={"since": until.isoformat(), "until": since.isoformat()},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    r = await api.get(
        "/v1/stats",
        params={
            "connection_id": str(page.connection_id),
            "since": since.isoformat(),
            "until": until.isoformat(),
        },
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["response_times"]["comments"] == 4 and stats["storms"] == {
        "started": 0,
        "active": 0,
    }
    assert stats["links"]["unanswered"] == f"/v1/unanswered?connection_id={page.connection_id}"
    assert stats["links"]["response_times"].startswith("/v1/response-times?since=")
    other = await make_tenant()
    r = await api.get("/v1/unanswered", headers=other.headers)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_hidden_comments_count_when_the_service_hours_say_so(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    body = {**HOURS_7_22, "count_hidden_comments": True}
    r = await api.put(
        f"/v1/clients/{page.client_id}/service-hours", json=body, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    await through_pipeline(
        pctx, page, [comment(page, "h1", local(2026, 6, 11, 13, 15), message="Ring på 40 52 37 46")]
    )
    await track_responses(db, now=local(2026, 6, 11, 13, 30))
    async with db.unit_of_work(page.tenant_id) as uow:
        waiting = await ResponseService(uow, now=local(2026, 6, 11, 13, 30)).unanswered(
            principal(tenant),
            client_id=None,
            connection_id=page.connection_id,
            cursor=None,
            limit=10,
        )
    assert [w.comment_id for w in waiting.items] == ["h1"]
