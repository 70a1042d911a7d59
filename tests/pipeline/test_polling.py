"""Polling recent posts: nothing waits on a late webhook."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.connections.models import Connection
from service.db import Database, utcnow
from service.errors import ConfigurationError
from service.findings.models import Finding, FindingSource, FindingStatus
from service.pipeline.context import PipelineContext
from service.pipeline.polling import poll_once
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.workers.jobs import poll_connection, poll_recent
from tests.conftest import MakeTenant
from tests.pipeline.conftest import comment_state, connect_page, hide_calls

pytestmark = [pytest.mark.e2e]

LEAKY = "Mit kundenummer står ikke nogen steder, men mit nummer er 40 52 37 46"


async def test_poll_hides_comments_whose_webhook_is_late_and_only_once(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    store = sandbox.store
    # No webhook arrives for these (Meta is late): only polling can see them.
    leaky = store.add_comment(page.post_id, LEAKY, author_name="Mette Kunde", notify=False)
    reply = store.add_comment(
        leaky.id, "Og min mail er mette.k@gmail.com", author_name="Mette", notify=False
    )
    fine = store.add_comment(page.post_id, "Flot tilbud!", author_name="Ole", notify=False)
    old_post = store.add_post(
        page.page_id, "Sidste år", created_time=int(time.time()) - 5 * 3600, notify=False
    )
    old = store.add_comment(
        old_post.id,
        LEAKY,
        author_name="Gammel",
        notify=False,
        created_time=int(time.time()) - 5 * 3600,
    )

    assert await poll_connection(ctx, str(page.tenant_id), str(page.connection_id)) == 3
    for node in (leaky, reply):
        state = await comment_state(control, node.id)
        assert state["is_hidden"] is True and state["hide_calls"] == 1
    assert (await comment_state(control, fine.id))["hide_calls"] == 0
    assert (await comment_state(control, old.id))["hide_calls"] == 0

    async with db.unit_of_work(page.tenant_id) as uow:
        findings = (await uow.session.scalars(select(Finding))).all()
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
    assert {f.comment_id for f in findings} == {leaky.id, reply.id}
    assert {f.source for f in findings} == {FindingSource.POLL}
    assert {f.status for f in findings} == {FindingStatus.HIDDEN}
    [threaded] = [f for f in findings if f.comment_id == reply.id]
    assert threaded.parent_id == leaky.id and threaded.post_id == page.post_id
    assert connection is not None and connection.last_polled_at is not None

    # Polling again (with the overlap) re-reads them and does nothing more.
    await poll_once(pctx, page.tenant_id, page.connection_id)
    assert len(await hide_calls(control, leaky.id)) == 1
    assert len(await hide_calls(control, reply.id)) == 1


async def test_poll_recent_queues_active_connections(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    queue = ctx["pipeline"].queue
    before = await queue.redis.zrange(settings.queue_name, 0, -1)
    assert await poll_recent(ctx) >= 1
    after = await queue.redis.zrange(settings.queue_name, 0, -1)
    added = {j.decode() for j in after} - {j.decode() for j in before}
    ours = [j for j in added if j.startswith(f"poll:{page.connection_id}:")]
    assert len(ours) == 1
    # Queued already: a second tick within the interval does not queue it twice.
    await poll_recent(ctx)
    again = await queue.redis.zrange(settings.queue_name, 0, -1)
    polls = [j.decode() for j in again if j.decode().startswith(f"poll:{page.connection_id}:")]
    assert polls == ours


async def test_each_connection_is_polled_at_its_configured_interval(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    pctx: PipelineContext = ctx["pipeline"]
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        connection.last_polled_at = utcnow() - dt.timedelta(seconds=10)
    job = f"poll:{page.connection_id}:"

    async def queued() -> bool:
        jobs = await pctx.queue.redis.zrange(settings.queue_name, 0, -1)
        return any(j.decode().startswith(job) for j in jobs)

    pctx.config = dataclasses.replace(pctx.config, poll_interval_seconds=30)
    await poll_recent(ctx)
    assert not await queued()  # polled 10 s ago: not due for another 20 s
    pctx.config = dataclasses.replace(pctx.config, poll_interval_seconds=10)
    await poll_recent(ctx)
    assert await queued()


def test_a_poll_interval_below_the_cron_tick_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="WALLGUARD_POLL_INTERVAL_SECONDS"):
        Settings.from_env({"WALLGUARD_POLL_INTERVAL_SECONDS": "2"})
    assert Settings.from_env({"WALLGUARD_POLL_INTERVAL_SECONDS": "45"}).poll_interval_seconds == 45
