"""Webhook -> inbox event -> detect -> policy -> hide/reply, against the sandbox over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import msgspec
import pytest
from arq.worker import Retry
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.connections.models import Connection, ConnectionStatus
from service.connections.service import store_token
from service.crypto import Cipher
from service.db import Database, utcnow
from service.findings.models import EXCERPT_PURPOSE, Finding, FindingStatus
from service.inbox.models import InboxEvent, InboxStatus
from service.moderation.models import ActionKind, ActionStatus, ModerationAction
from service.pipeline.actions import perform_pending_actions
from service.pipeline.context import PipelineContext
from service.pipeline.inbox import accept_delivery, process_event
from service.pipeline.reconcile import reconcile_once
from service.platforms.limits import MemoryLimits
from service.platforms.signatures import sign_body
from service.policies.defaults import DEFAULT_REPLY_TEMPLATES
from service.policies.models import Policy, PolicyMode
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.workers.jobs import CONTEXT_KEY, execute_action, process_inbox_event
from tests.conftest import MakeTenant
from tests.pipeline.conftest import (
    APP_SECRET,
    Page,
    comment_state,
    connect_page,
    deliver,
    event_ids,
    hide_calls,
    rows_containing,
)
from tests.sandbox.receiver import WebhookReceiver

pytestmark = [pytest.mark.e2e]

PHONE = "40 52 37 46"
PHONE_DIGITS = "40523746"
LEAKY = f"Hej, I har lovet at ringe mig op. Mit nummer er {PHONE}, jeg venter stadig!"


async def findings_of(db: Database, page: Page) -> list[Finding]:
    async with db.unit_of_work(page.tenant_id) as uow:
        return list(
            (
                await uow.session.scalars(
                    select(Finding).where(Finding.connection_id == page.connection_id)
                )
            ).all()
        )


async def actions_of(db: Database, page: Page) -> list[ModerationAction]:
    async with db.unit_of_work(page.tenant_id) as uow:
        return list(
            (
                await uow.session.scalars(
                    select(ModerationAction)
                    .where(ModerationAction.connection_id == page.connection_id)
                    .order_by(ModerationAction.id)
                )
            ).all()
        )


async def audit_actions(db: Database, page: Page) -> list[str]:
    async with db.unit_of_work(page.tenant_id) as uow:
        return list(
            (
                await uow.session.scalars(
                    select(AuditEvent.action)
                    .where(AuditEvent.tenant_id == page.tenant_id)
                    .order_by(AuditEvent.seq)
                )
            ).all()
        )


async def set_mode(db: Database, page: Page, mode: PolicyMode) -> None:
    async with db.unit_of_work(page.tenant_id) as uow:
        uow.session.add(
            Policy(
                tenant_id=page.tenant_id, client_id=page.client_id, connection_id=None, mode=mode
            )
        )


async def comment(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    receiver: WebhookReceiver,
    page: Page,
    message: str,
    author: str = "Mette Kunde",
    on: str | None = None,
) -> str:
    node = sandbox.store.add_comment(on or page.post_id, message, author_name=author)
    await deliver(db, settings, receiver, node.id)
    return node.id


async def test_a_phone_number_is_hidden_once_and_stored_masked(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    innocent = await comment(sandbox, db, settings, receiver, page, "Hvornår åbner butikken?")

    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)

    state = await comment_state(control, leaky)
    assert state["is_hidden"] is True and state["hide_calls"] == 1
    assert len(await hide_calls(control, leaky)) == 1
    untouched = await comment_state(control, innocent)
    assert untouched["is_hidden"] is False and untouched["hide_calls"] == 0
    assert await hide_calls(control, innocent) == []

    [finding] = await findings_of(db, page)
    assert finding.comment_id == leaky
    assert finding.status is FindingStatus.HIDDEN
    assert finding.types == ["PHONE_NUMBER"]
    assert finding.hidden_at is not None and finding.received_at <= finding.hidden_at
    assert finding.entities[0]["masked"].endswith("46")
    assert PHONE.encode() not in finding.masked_excerpt_ciphertext
    excerpt = Cipher(settings.encryption_keys).decrypt_text(
        finding.masked_excerpt_ciphertext, tenant_id=finding.tenant_id, purpose=EXCERPT_PURPOSE
    )
    assert PHONE not in excerpt and "•" in excerpt
    assert excerpt.startswith("Hej, I har lovet")
    assert b"Hej, I har lovet" not in finding.masked_excerpt_ciphertext
    assert finding.permalink_url and leaky.rsplit("_", 1)[-1] in finding.permalink_url
    assert len(finding.fingerprints) == 1 and len(finding.fingerprints[0]) == 64
    assert finding.post_id == page.post_id and finding.author_id

    # The raw value is nowhere: not in the findings, the audit trail, the inbox or the actions.
    assert await rows_containing(db, PHONE_DIGITS) == []
    assert await rows_containing(db, PHONE) == []
    # The comment's other words are nowhere in clear either (the masked excerpt is encrypted).
    assert await rows_containing(db, "ringe mig op") == []

    assert [a.kind for a in await actions_of(db, page)] == [ActionKind.HIDE]
    events = await audit_actions(db, page)
    assert "finding.recorded" in events and "comment.hidden" in events

    async with db.unit_of_work(page.tenant_id) as uow:
        statuses = (
            await uow.session.scalars(
                select(InboxEvent.status).where(InboxEvent.connection_id == page.connection_id)
            )
        ).all()
    assert set(statuses) == {InboxStatus.DONE}


async def test_the_same_event_twice_hides_once_and_records_one_finding(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    node = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Mette Kunde")
    body = await deliver(db, settings, receiver, node.id)
    # Meta redelivers the same body: the inbox recognises it.
    again = await accept_delivery(
        db,
        Cipher(settings.encryption_keys),
        APP_SECRET,
        body,
        sign_body(APP_SECRET, body),
        secret_key=settings.secret_key,
    )
    assert again.duplicates == 1 and again.stored == 0
    [event_id] = await event_ids(db, page)
    for _ in range(2):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    # And a second, distinct event for the same comment (an edit that keeps the number).
    sandbox.store.edit_message(node.id, LEAKY + " Hallo?")
    await deliver(db, settings, receiver, node.id, "edited")
    for eid in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), eid)

    assert (await comment_state(control, node.id))["hide_calls"] == 1
    assert len(await hide_calls(control, node.id)) == 1
    assert len(await findings_of(db, page)) == 1
    assert len(await actions_of(db, page)) == 1


async def test_monitor_mode_records_and_hides_nothing(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    await set_mode(db, page, PolicyMode.MONITOR)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)

    assert await hide_calls(control, leaky) == []
    [finding] = await findings_of(db, page)
    assert finding.status is FindingStatus.MONITORED and finding.hidden_at is None
    assert await actions_of(db, page) == []


async def test_hide_and_reply_replies_once_in_the_commenters_language(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(
        db, settings, sandbox, tenant.tenant_id, private_channel_url="https://nordlys.example/chat"
    )
    await set_mode(db, page, PolicyMode.HIDE_AND_REPLY)
    swedish = await comment(
        sandbox,
        db,
        settings,
        receiver,
        page,
        "Hej! Jag har ringt er tre gånger och ingen svarar. Ring mig på +46 70 123 45 67 tack",
        author="Sven Kund",
    )
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)

    state = await comment_state(control, swedish)
    assert state["is_hidden"] is True
    [reply] = state["page_replies"]
    assert reply["message"].startswith("Hej! Vi har dolt din kommentar")
    assert "https://nordlys.example/chat" in reply["message"]
    assert "{" not in reply["message"]

    # The page's reply comes back as a webhook event: it is Wallguard's own, so it is skipped.
    await deliver(db, settings, receiver, reply["id"])
    for action in await actions_of(db, page):
        await execute_action(ctx, str(page.tenant_id), str(action.id))
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    state = await comment_state(control, swedish)
    assert len(state["page_replies"]) == 1 and state["hide_calls"] == 1
    [finding] = await findings_of(db, page)
    assert finding.replied_at is not None and finding.language == "sv"
    kinds = {(a.kind, a.status) for a in await actions_of(db, page)}
    assert kinds == {(ActionKind.HIDE, ActionStatus.DONE), (ActionKind.REPLY, ActionStatus.DONE)}


async def test_a_reply_posted_before_a_crash_is_found_not_posted_again(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    await set_mode(db, page, PolicyMode.HIDE_AND_REPLY)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    [reply_id] = [r["id"] for r in (await comment_state(control, leaky))["page_replies"]]
    # Simulate the crash: the reply is on the platform, the row forgot it.
    async with db.unit_of_work(page.tenant_id) as uow:
        action = (
            await uow.session.scalars(
                select(ModerationAction).where(
                    ModerationAction.connection_id == page.connection_id,
                    ModerationAction.kind == ActionKind.REPLY,
                )
            )
        ).one()
        action.status, action.result_id, action.done_at = ActionStatus.PENDING, None, None
        action_id = action.id
    assert await execute_action(ctx, str(page.tenant_id), str(action_id)) == "done"
    state = await comment_state(control, leaky)
    assert [r["id"] for r in state["page_replies"]] == [reply_id]
    [action] = [a for a in await actions_of(db, page) if a.kind is ActionKind.REPLY]
    assert action.result_id == reply_id and action.status is ActionStatus.DONE


async def test_rate_limited_hide_is_retried_and_hides_once(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    fault = await control.post(
        "/_sandbox/faults",
        json={
            "kind": "rate_limit",
            "page_id": page.page_id,
            "count": 1,
            "code": 32,
            "regain_minutes": 2,
        },
    )
    assert fault.status_code == 201, fault.text
    [event_id] = await event_ids(db, page)
    await process_inbox_event(ctx, str(page.tenant_id), event_id)
    assert (await comment_state(control, leaky))["is_hidden"] is False
    [action] = await actions_of(db, page)
    assert action.status is ActionStatus.PENDING and action.attempts == 1
    assert action.last_error and "RateLimited" in action.last_error
    [finding] = await findings_of(db, page)
    assert finding.status is FindingStatus.PENDING_HIDE

    # Run early (a poll, a duplicate job), it waits out what Meta said without calling.
    with pytest.raises(Retry) as early:
        await execute_action(ctx, str(page.tenant_id), str(action.id))
    assert early.value.defer_score is not None and early.value.defer_score > 60_000
    assert len(await hide_calls(control, leaky)) == 1
    # The job queued for later runs once the wait is over: it checks the comment, then hides.
    ctx[CONTEXT_KEY].graph.limits = MemoryLimits()
    assert await execute_action(ctx, str(page.tenant_id), str(action.id)) == "done"
    state = await comment_state(control, leaky)
    assert state["is_hidden"] is True and state["hide_calls"] == 1
    assert [c["status"] for c in await hide_calls(control, leaky)] == [403, 200]
    # Once done, running it again does nothing.
    assert await execute_action(ctx, str(page.tenant_id), str(action.id)) == "not_pending"
    assert len(await hide_calls(control, leaky)) == 2


async def test_execute_action_raises_retry_with_the_platforms_wait(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    await set_mode(db, page, PolicyMode.MONITOR)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    [event_id] = await event_ids(db, page)
    await process_inbox_event(ctx, str(page.tenant_id), event_id)
    # An admin's unhide of a finding that was never hidden is refused; so record a hide by hand.
    async with db.unit_of_work(page.tenant_id) as uow:
        [finding] = (await uow.session.scalars(select(Finding))).all()
        action = ModerationAction(
            tenant_id=page.tenant_id,
            connection_id=page.connection_id,
            finding_id=finding.id,
            comment_id=leaky,
            kind=ActionKind.HIDE,
            status=ActionStatus.PENDING,
            attempts=0,
            requested_by="test",
        )
        uow.session.add(action)
        await uow.session.flush()
        action_id = action.id
    await control.post(
        "/_sandbox/faults",
        json={
            "kind": "rate_limit",
            "page_id": page.page_id,
            "count": 1,
            "regain_minutes": 3,
        },
    )
    with pytest.raises(Retry) as retry:
        await execute_action(ctx, str(page.tenant_id), str(action_id))
    assert retry.value.defer_score == 180_000
    ctx[CONTEXT_KEY].graph.limits = MemoryLimits()  # three minutes later
    assert await execute_action(ctx, str(page.tenant_id), str(action_id)) == "done"
    assert (await comment_state(control, leaky))["hide_calls"] == 1


async def test_server_errors_are_retried(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    # More failures than the client's own retry: the action is left for a later job.
    await control.post(
        "/_sandbox/faults",
        json={
            "kind": "server_error",
            "page_id": page.page_id,
            "count": 2,
            "http_status": 503,
        },
    )
    [event_id] = await event_ids(db, page)
    await process_inbox_event(ctx, str(page.tenant_id), event_id)
    [action] = await actions_of(db, page)
    assert action.status is ActionStatus.PENDING
    assert action.last_error and "PlatformUnavailable" in action.last_error
    assert await execute_action(ctx, str(page.tenant_id), str(action.id)) == "done"
    state = await comment_state(control, leaky)
    assert state["is_hidden"] is True and state["hide_calls"] == 1


async def test_an_expired_token_marks_the_connection_and_hides_nothing(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    await control.post("/_sandbox/faults", json={"kind": "expire_token", "page_id": page.page_id})
    [event_id] = await event_ids(db, page)
    await process_inbox_event(ctx, str(page.tenant_id), event_id)

    state = await comment_state(control, leaky)
    assert state["is_hidden"] is False and state["hide_calls"] == 0
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None and connection.status is ConnectionStatus.NEEDS_REAUTH
    [action] = await actions_of(db, page)
    assert action.status is ActionStatus.PENDING  # waits for re-authorisation
    assert "connection.needs_reauth" in await audit_actions(db, page)

    # Later events for the page wait too, without calling the platform.
    await control.delete("/_sandbox/faults")
    await control.delete("/_sandbox/calls")
    second = await comment(sandbox, db, settings, receiver, page, LEAKY + " igen")
    pending = (await event_ids(db, page))[-1]
    assert await process_inbox_event(ctx, str(page.tenant_id), pending) == "waiting"
    assert (await control.get("/_sandbox/calls")).json() == []
    assert (await comment_state(control, second))["is_hidden"] is False
    async with db.unit_of_work(page.tenant_id) as uow:
        event = await uow.session.get(InboxEvent, (page.tenant_id, uuid.UUID(pending)))
        assert event is not None and event.status is InboxStatus.PENDING

    # Nothing is resent while the page waits; once it is re-authorised, reconcile sends the
    # waiting event and the waiting hide (their queued jobs are lost here, as in a restart).
    pctx: PipelineContext = ctx["pipeline"]
    for eid in await event_ids(db, page):
        await pctx.queue.redis.zrem(settings.queue_name, f"inbox:{eid}")
        await pctx.queue.redis.delete(f"arq:job:inbox:{eid}")
    assert await reconcile_once(pctx, tenant_id=page.tenant_id) == 0
    fresh_token = sandbox.store.new_token(
        "page", user_id=sandbox.store.user_id, page_id=page.page_id
    ).value
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        store_token(Cipher(settings.encryption_keys), connection, fresh_token)
        connection.status = ConnectionStatus.ACTIVE
    assert await reconcile_once(pctx, tenant_id=page.tenant_id) == 2
    queued = {j.decode() for j in await pctx.queue.redis.zrange(settings.queue_name, 0, -1)}
    assert {f"inbox:{pending}", f"action:{action.id}"} <= queued
    assert await execute_action(ctx, str(page.tenant_id), str(action.id)) == "done"
    assert await process_inbox_event(ctx, str(page.tenant_id), pending) == "done"
    for comment_id in (leaky, second):
        state = await comment_state(control, comment_id)
        assert state["is_hidden"] is True and state["hide_calls"] == 1


async def test_paused_connections_skip_events(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        connection.status = ConnectionStatus.PAUSED
    leaky = await comment(sandbox, db, settings, receiver, page, LEAKY)
    [event_id] = await event_ids(db, page)
    assert await process_inbox_event(ctx, str(page.tenant_id), event_id) == "skipped"
    assert (await comment_state(control, leaky))["hide_calls"] == 0
    assert await findings_of(db, page) == []


async def test_the_companys_own_comments_are_reported_not_hidden(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    customer = await comment(sandbox, db, settings, receiver, page, "Hvor er min ordre?")
    # A staff member answers as the page, quoting a customer's CPR number by mistake.
    staff = sandbox.store.add_comment(customer, "Hej Mette, vi har fundet dig på CPR 010190-1234.")
    await deliver(db, settings, receiver, staff.id)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    [finding] = await findings_of(db, page)
    assert finding.comment_id == staff.id and finding.by_page
    assert finding.status is FindingStatus.REPORTED
    assert await hide_calls(control, staff.id) == []
    assert await actions_of(db, page) == []
    # The whole value, and its digits run together (ten of them: a six-digit needle would be
    # found by chance in the hex text of some ciphertext or hash sooner or later).
    assert await rows_containing(db, "010190-1234") == []
    assert await rows_containing(db, "0101901234") == []


async def test_other_verbs_and_items_are_skipped(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    post = sandbox.store.add_post(page.page_id, f"Ring til {PHONE}", author_name="Besøgende")
    await deliver(db, settings, receiver, post.id)
    node = sandbox.store.add_comment(page.post_id, "Tak for hjælpen", author_name="Ida")
    await deliver(db, settings, receiver, node.id)
    sandbox.store.delete_node(node.id)
    await deliver(db, settings, receiver, node.id, "remove")
    results = [
        await process_inbox_event(ctx, str(page.tenant_id), e) for e in await event_ids(db, page)
    ]
    assert results == ["skipped", "done", "skipped"]
    assert await findings_of(db, page) == []


async def test_an_event_without_the_message_fetches_the_comment(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    """Some changes arrive without the text: the comment is read from the platform."""
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    node = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Mette", notify=False)
    payload = {
        "entry_id": page.page_id,
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": node.id,
            "post_id": page.post_id,
            "from": {"id": node.from_id},
        },
    }
    async with db.unit_of_work(page.tenant_id) as uow:
        event = InboxEvent(
            tenant_id=page.tenant_id,
            connection_id=page.connection_id,
            field="feed",
            item="comment",
            verb="add",
            object_id=node.id,
            post_id=page.post_id,
            parent_id=page.post_id,
            sender_id=node.from_id,
            dedupe_key=uuid.uuid4().hex,
            payload_ciphertext=Cipher(settings.encryption_keys).encrypt(
                msgspec.json.encode(payload), tenant_id=page.tenant_id, purpose="inbox_event"
            ),
            received_at=utcnow(),
        )
        uow.session.add(event)
        await uow.session.flush()
        event_id = event.id
    assert await process_inbox_event(ctx, str(page.tenant_id), str(event_id)) == "done"
    state = await comment_state(control, node.id)
    assert state["is_hidden"] is True and state["hide_calls"] == 1
    [finding] = await findings_of(db, page)
    assert finding.permalink_url and finding.permalink_url.startswith("https://www.facebook.com/")
    # A comment removed before the event is processed is skipped.
    gone = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Ole", notify=False)
    sandbox.store.delete_node(gone.id)
    async with db.unit_of_work(page.tenant_id) as uow:
        payload["value"]["comment_id"] = gone.id  # type: ignore[index]
        event = InboxEvent(
            tenant_id=page.tenant_id,
            connection_id=page.connection_id,
            field="feed",
            item="comment",
            verb="add",
            object_id=gone.id,
            post_id=page.post_id,
            parent_id=page.post_id,
            sender_id=gone.from_id,
            dedupe_key=uuid.uuid4().hex,
            payload_ciphertext=Cipher(settings.encryption_keys).encrypt(
                msgspec.json.encode(payload), tenant_id=page.tenant_id, purpose="inbox_event"
            ),
            received_at=utcnow(),
        )
        uow.session.add(event)
        await uow.session.flush()
        gone_event = event.id
    assert await process_inbox_event(ctx, str(page.tenant_id), str(gone_event)) == "skipped"


async def test_a_short_comment_gets_the_pages_language_not_english(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    """ "Fødselsnr: 07029223011" is too short for a language guess: the page is Norwegian (its
    country; no language configured anywhere), so detection reads it as Norwegian and the
    reply is in Norwegian, not in English."""
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id, default_language=None)
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        connection.country = "NO"
    await set_mode(db, page, PolicyMode.HIDE_AND_REPLY)
    short = await comment(
        sandbox, db, settings, receiver, page, "Fødselsnr: 07029223011", author="Ola Kunde"
    )
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    for action in await actions_of(db, page):
        if action.status is ActionStatus.PENDING:
            await execute_action(ctx, str(page.tenant_id), str(action.id))

    state = await comment_state(control, short)
    assert state["is_hidden"] is True
    [reply] = state["page_replies"]
    [finding] = await findings_of(db, page)
    assert finding.language == "nb"
    expected = DEFAULT_REPLY_TEMPLATES["nb"].split("{")[0].strip()
    assert reply["message"].startswith(expected), reply["message"]


async def test_a_backlog_is_handled_in_one_batch_by_the_first_job(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    texts = [f"{LEAKY} ({i})" for i in range(4)] + ["Tak for hjælpen i går", "Fint tilbud"]
    comments = [await comment(sandbox, db, settings, receiver, page, t) for t in texts]
    first, *rest = await event_ids(db, page)

    outcome = await process_event(pctx, page.tenant_id, uuid.UUID(first))

    assert outcome.status == "done" and outcome.events == len(texts)
    assert len(outcome.action_ids) == 4 == len(outcome.fresh_action_ids)
    await process_inbox_event(ctx, str(page.tenant_id), first)  # performs nothing twice
    for event_id in rest:  # their own jobs find them done
        assert await process_inbox_event(ctx, str(page.tenant_id), event_id) == "not_pending"
    await perform_pending_actions(
        pctx, page.tenant_id, outcome.action_ids, fresh=outcome.fresh_action_ids
    )
    for comment_id, text in zip(comments, texts, strict=True):
        state = await comment_state(control, comment_id)
        assert state["is_hidden"] is (text.startswith(LEAKY))
        assert state["hide_calls"] == (1 if text.startswith(LEAKY) else 0)
    findings = await findings_of(db, page)
    assert len(findings) == 4 and {f.status for f in findings} == {FindingStatus.HIDDEN}
    async with db.unit_of_work(page.tenant_id) as uow:
        events = (
            await uow.session.scalars(
                select(InboxEvent).where(InboxEvent.connection_id == page.connection_id)
            )
        ).all()
    assert {e.status for e in events} == {InboxStatus.DONE}
    # Each finding keeps the time its own webhook arrived.
    assert len({f.received_at for f in findings}) == 4
