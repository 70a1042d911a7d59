"""Storms replayed: the sandbox writes an evening's comments (a 3,000-comment storm on one post,
or a steady busy page with weeks of history), the pipeline reads them from its Graph API and
handles them as a poll or a scan would, and the storm watcher runs tick by tick with an
injected clock through the evening."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.connections.models import Connection
from service.db import Database, utcnow
from service.findings.models import FindingSource
from service.pipeline.comments import comment_view, handle_comments
from service.pipeline.context import PipelineContext
from service.platforms.graph import GraphClient
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.storms import rule
from service.storms.models import Storm, StormStatus
from service.storms.repository import StormRepository
from service.storms.steps import WATCH_TICK_SECONDS, WatchOutcome, watch_storms
from tests.conftest import MakeTenant
from tests.pipeline.conftest import Page, connect_page

pytestmark = [pytest.mark.e2e]

TICK = dt.timedelta(seconds=WATCH_TICK_SECONDS)


def unix(value: dt.datetime) -> int:
    return int(value.timestamp())


def at(value: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


async def stream(control: httpx.AsyncClient, page: Page, **body: object) -> dict[str, object]:
    r = await control.post("/_sandbox/streams", json={"page_id": page.page_id, **body})
    assert r.status_code == 200, r.text
    summary: dict[str, object] = r.json()
    return summary


async def ingest(pctx: PipelineContext, graph: GraphClient, page: Page, post_id: str) -> int:
    """Every comment of the post, a hundred at a time, through ``handle_comments``."""
    handled, after = 0, None
    while True:
        comments, after = await graph.comments_page(post_id, page.token, after=after, limit=100)
        async with pctx.db.unit_of_work(page.tenant_id) as uow:
            connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
            assert connection is not None
            await handle_comments(
                pctx,
                uow,
                connection,
                [comment_view(c, post_id=post_id) for c in comments],
                source=FindingSource.SCAN,
                received_at=utcnow(),
            )
        handled += len(comments)
        if after is None:
            return handled


async def storms_of(db: Database, page: Page) -> list[Storm]:
    async with db.unit_of_work(page.tenant_id) as uow:
        return await StormRepository(uow.session).page(
            page.tenant_id,
            client_id=None,
            connection_id=page.connection_id,
            status=None,
            since=None,
            cursor=None,
            limit=10,
        )


async def replay(
    db: Database, start: dt.datetime, end: dt.datetime, step: dt.timedelta
) -> list[tuple[dt.datetime, WatchOutcome]]:
    ticks = []
    now = start
    while now <= end:
        ticks.append((now, await watch_storms(db, now=now)))
        now += step
    return ticks


async def test_a_replayed_storm_is_detected_within_a_minute_and_ends_when_the_rate_falls(
    api: AsyncTestClient[Litestar],
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    graph: GraphClient,
    control: httpx.AsyncClient,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    # A Thursday evening: a quiet page (a comment every 20 minutes) until 19:00 UTC, then
    # 3,000 comments on one post over three hours, like Telenor's.
    evening = dt.datetime(2026, 8, 6, 19, 0, tzinfo=dt.UTC)
    quiet = await stream(
        control,
        page,
        profile="steady",
        start=unix(evening) - 4 * 3600,
        minutes=7 * 60,
        per_minute=0.05,
        seed=2,
    )
    storm = await stream(control, page, profile="storm", start=unix(evening), comments=3000, seed=3)
    assert storm["comments"] == 3000
    await ingest(pctx, graph, page, str(quiet["post_id"]))
    assert await ingest(pctx, graph, page, str(storm["post_id"])) >= 3000
    first, last = at(int(storm["first"])), at(int(storm["last"]))  # type: ignore[call-overload]

    # Before the storm: nothing. Then every 15 s through its first minutes.
    await replay(db, first - dt.timedelta(hours=2), first - TICK, dt.timedelta(minutes=5))
    assert await storms_of(db, page) == []
    await replay(db, first - 4 * TICK, first + 8 * TICK, TICK)
    [found] = await storms_of(db, page)
    assert found.status is StormStatus.ACTIVE
    assert found.detected_at - first <= dt.timedelta(minutes=1)
    assert found.started_at >= first - rule.WINDOW
    assert found.posts[0]["post_id"] == storm["post_id"]
    assert found.baseline_per_minute < 1

    # The rest of the evening, a minute at a time: it lasts while the comments keep coming.
    ticks = await replay(
        db, first + 9 * TICK, last + dt.timedelta(minutes=30), dt.timedelta(minutes=1)
    )
    ended_ticks = [now for now, outcome in ticks if outcome.ended]
    assert len(ended_ticks) == 1
    [found] = await storms_of(db, page)
    assert found.status is StormStatus.ENDED and found.ended_at is not None
    # It ends when the rate falls: its end is the last tick whose window still held enough of
    # the storm's tail, and it is declared after QUIET minutes without one.
    assert last - dt.timedelta(minutes=15) <= found.ended_at <= last + rule.WINDOW
    assert ended_ticks[0] - found.ended_at >= rule.QUIET
    assert ended_ticks[0] <= last + rule.QUIET + dt.timedelta(minutes=6)
    assert 2900 <= found.comments <= 3010
    assert found.peak_per_minute > 20

    r = await api.get(
        "/v1/storms", params={"connection_id": str(page.connection_id)}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    [listed] = r.json()["items"]
    assert listed["id"] == str(found.id) and listed["status"] == "ended"
    assert listed["posts"][0]["post_id"] == storm["post_id"]
    r = await api.get(f"/v1/storms/{found.id}", headers=tenant.headers)
    assert r.status_code == 200 and r.json() == listed
    other = await make_tenant()
    assert (await api.get(f"/v1/storms/{found.id}", headers=other.headers)).status_code == 404
    r = await api.get("/v1/storms", params={"status": "stormy"}, headers=tenant.headers)
    assert r.status_code == 400


async def test_no_storm_on_a_steady_busy_page(
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    graph: GraphClient,
    control: httpx.AsyncClient,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    # Four comments a minute, every week at this time (two weeks of history and today).
    today = dt.datetime(2026, 9, 10, 18, 0, tzinfo=dt.UTC)
    posts = []
    for weeks_ago, hours in ((2, 4), (1, 4), (0, 2)):
        start = today - dt.timedelta(weeks=weeks_ago, hours=1)
        summary = await stream(
            control,
            page,
            profile="steady",
            start=unix(start),
            minutes=hours * 60,
            per_minute=4.0,
            seed=10 + weeks_ago,
        )
        posts.append(str(summary["post_id"]))
    for post_id in posts:
        await ingest(pctx, graph, page, post_id)

    ticks = await replay(
        db, today - dt.timedelta(minutes=30), today + dt.timedelta(hours=1), dt.timedelta(minutes=1)
    )
    assert all(not outcome.started for _, outcome in ticks)
    assert await storms_of(db, page) == []
    # The same page with a sudden storm on top of its busy evening is one, though.
    storm = await stream(
        control,
        page,
        profile="storm",
        start=unix(today + dt.timedelta(minutes=5)),
        comments=3000,
        seed=12,
    )
    await ingest(pctx, graph, page, str(storm["post_id"]))
    await replay(db, today + dt.timedelta(minutes=5), today + dt.timedelta(minutes=8), TICK)
    [found] = await storms_of(db, page)
    assert found.baseline_per_minute == pytest.approx(4.0, rel=0.25)
    assert found.detected_at - at(int(storm["first"])) <= dt.timedelta(minutes=2)  # type: ignore[call-overload]
