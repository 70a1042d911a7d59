"""A page of comments through ``handle_comments`` and a batch of actions through
``perform_actions``: the shapes a backfill uses, with every case a single comment can take
mixed into one call."""

from __future__ import annotations

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEvent
from service.audit.service import verify
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import store_token
from service.db import Database, utcnow
from service.findings.models import Finding, FindingSource, FindingStatus
from service.moderation.models import ActionKind, ActionStatus, ModerationAction
from service.pipeline import actions as pipeline_actions
from service.pipeline.actions import perform_actions, perform_pending_actions
from service.pipeline.comments import CommentView, handle_comments
from service.pipeline.context import PipelineContext
from service.pipeline.inbox import fetch_comment
from service.policies.models import PolicyMode
from service.sandbox import RunningSandbox
from service.settings import Settings
from tests.conftest import MakeTenant
from tests.pipeline.conftest import Page, comment_state, connect_page
from tests.pipeline.test_realtime import set_mode

pytestmark = [pytest.mark.e2e]

PHONE = "Ring mig på 40 52 37 46, jeg venter stadig på svar"
EMAIL = "Min mail er mette.k@gmail.com hvis I vil skrive"
INNOCENT = "Tak for hurtig hjælp i butikken i dag"


def add(sandbox: RunningSandbox, page: Page, message: str, *, by_page: bool = False) -> CommentView:
    node = sandbox.store.add_comment(
        page.post_id, message, author_name=None if by_page else "Mette Kunde", notify=False
    )
    return CommentView(
        comment_id=node.id,
        post_id=page.post_id,
        parent_id=page.post_id,
        message=message,
        author_id=node.from_id,
        created_time=utcnow(),
        permalink_url=None,
        is_hidden=node.is_hidden,
    )


async def handle_page(
    pctx: PipelineContext, page: Page, comments: list[CommentView]
) -> list[object]:
    async with pctx.db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        outcomes = await handle_comments(
            pctx,
            uow,
            connection,
            comments,
            source=FindingSource.SCAN,
            received_at=utcnow(),
        )
    return list(outcomes)


async def test_a_page_of_comments_is_handled_in_one_go_each_case_as_on_its_own(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    known = add(sandbox, page, PHONE)
    [first] = await handle_page(pctx, page, [known])
    edited = msgspec.structs.replace(known, message=EMAIL)
    already = add(sandbox, page, "Mit CPR er 070761-4285 skriv til mig")
    sandbox.store.set_hidden(already.comment_id, True)
    already = msgspec.structs.replace(already, is_hidden=True)
    fresh = add(sandbox, page, EMAIL)
    own = add(sandbox, page, "Mette, vi skriver til mette.k@gmail.com i dag", by_page=True)
    innocent = add(sandbox, page, INNOCENT)
    empty = msgspec.structs.replace(innocent, comment_id="empty_1", message="  ")

    comments = [innocent, edited, fresh, already, own, empty, fresh]
    outcomes = await handle_page(pctx, page, comments)

    assert [o.finding_id is not None for o in outcomes] == [  # type: ignore[attr-defined]
        False,
        True,
        False,  # the same comment twice in a page is handled once, as its last version
        True,
        True,
        False,
        True,
    ]
    o_edit, _, o_already, o_own, _, o_fresh = outcomes[1:]
    assert o_edit.finding_id == first.finding_id and not o_edit.new  # type: ignore[attr-defined]
    # The known comment's hide is still pending: it is handed back, not created again.
    assert o_edit.action_ids == first.action_ids and o_edit.fresh_action_ids == ()  # type: ignore[attr-defined]
    assert o_fresh.new and len(o_fresh.fresh_action_ids) == 1  # type: ignore[attr-defined]
    assert o_already.new and o_already.action_ids == ()  # type: ignore[attr-defined]
    assert o_own.new and not o_own.acted and o_own.action_ids == ()  # type: ignore[attr-defined]

    async with db.unit_of_work(page.tenant_id) as uow:
        findings = {
            f.comment_id: f
            for f in (
                await uow.session.scalars(
                    select(Finding).where(Finding.connection_id == page.connection_id)
                )
            ).all()
        }
        assert set(findings) == {
            known.comment_id,
            fresh.comment_id,
            already.comment_id,
            own.comment_id,
        }
        assert findings[known.comment_id].types == ["EMAIL_ADDRESS"]  # followed the edit
        assert findings[already.comment_id].status is FindingStatus.HIDDEN
        assert findings[own.comment_id].status is FindingStatus.REPORTED
        assert findings[fresh.comment_id].status is FindingStatus.PENDING_HIDE
        actions = (
            await uow.session.scalars(
                select(ModerationAction).where(ModerationAction.connection_id == page.connection_id)
            )
        ).all()
        assert sorted((a.comment_id, a.status.value) for a in actions) == sorted(
            [
                (known.comment_id, "pending"),
                (fresh.comment_id, "pending"),
                (already.comment_id, "done"),
            ]
        )
        audited = [
            (e.action, e.subject_id)
            for e in (
                await uow.session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.tenant_id == page.tenant_id)
                    .order_by(AuditEvent.seq)
                )
            ).all()
        ]
        report = await verify(uow, page.tenant_id)
    assert report.valid and report.events == len(audited)
    recorded = [s for a, s in audited if a == "finding.recorded"]
    assert len(recorded) == len(set(recorded)) == 4
    assert ("finding.updated", str(first.finding_id)) in audited  # type: ignore[attr-defined]
    assert ("comment.hidden", str(findings[already.comment_id].id)) in audited


async def test_a_batch_hides_then_replies_in_one_transaction_and_one_failure_stays_its_own(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    await set_mode(db, page, PolicyMode.HIDE_AND_REPLY)
    comments = [add(sandbox, page, f"{PHONE} ({i})") for i in range(5)]
    outcomes = await handle_page(pctx, page, comments)
    action_ids = [a for o in outcomes for a in o.action_ids]  # type: ignore[attr-defined]
    fresh = [a for o in outcomes for a in o.fresh_action_ids]  # type: ignore[attr-defined]
    assert len(action_ids) == len(fresh) == 10  # a hide and a reply each
    gone = comments[2].comment_id
    sandbox.store.delete_node(gone)

    results = await perform_pending_actions(pctx, page.tenant_id, action_ids, fresh=fresh)

    by_id = {r.action_id: r for r in results}
    async with db.unit_of_work(page.tenant_id) as uow:
        actions = {
            (a.comment_id, a.kind): a
            for a in (
                await uow.session.scalars(
                    select(ModerationAction).where(
                        ModerationAction.connection_id == page.connection_id
                    )
                )
            ).all()
        }
    for c in comments:
        hide, reply = (
            actions[c.comment_id, ActionKind.HIDE],
            actions[c.comment_id, ActionKind.REPLY],
        )
        if c.comment_id == gone:
            assert by_id[hide.id].result == "failed" and hide.status is ActionStatus.FAILED
            # No reply says "we hid your comment" when it was not hidden.
            assert by_id[reply.id].result == "failed" and reply.result_id is None
            continue
        assert by_id[hide.id].result == "done" and by_id[reply.id].result == "done"
        state = await comment_state(control, c.comment_id)
        assert state["is_hidden"] is True and state["hide_calls"] == 1
        assert [r["id"] for r in state["page_replies"]] == [reply.result_id]

    # Performed again (a duplicate job, reconcile): nothing reaches the platform twice.
    again = await perform_actions(pctx, page.tenant_id, action_ids)
    assert {r.result for r in again} == {"not_pending"}
    for c in comments:
        if c.comment_id != gone:
            state = await comment_state(control, c.comment_id)
            assert state["hide_calls"] == 1 and len(state["page_replies"]) == 1


async def test_a_refused_token_in_a_batch_leaves_every_action_pending_for_reauthorisation(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    comments = [add(sandbox, page, f"{EMAIL} {i}") for i in range(3)]
    outcomes = await handle_page(pctx, page, comments)
    action_ids = [a for o in outcomes for a in o.action_ids]  # type: ignore[attr-defined]
    await control.post("/_sandbox/faults", json={"kind": "expire_token", "page_id": page.page_id})

    results = await perform_actions(pctx, page.tenant_id, action_ids, fresh=action_ids)

    assert {(r.result, r.error) for r in results} == {("waiting", "needs_reauth")}
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None and connection.status is ConnectionStatus.NEEDS_REAUTH
        pending = await uow.session.scalar(
            select(func.count()).where(
                ModerationAction.connection_id == page.connection_id,
                ModerationAction.status == ActionStatus.PENDING,
            )
        )
        needs_reauth = await uow.session.scalar(
            select(func.count()).where(
                AuditEvent.tenant_id == page.tenant_id,
                AuditEvent.action == "connection.needs_reauth",
            )
        )
    assert pending == 3 and needs_reauth == 1
    for c in comments:
        assert (await comment_state(control, c.comment_id))["is_hidden"] is False


async def test_a_long_list_of_actions_is_performed_in_slices_each_committed_on_its_own(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline_actions, "ACTIONS_PER_TRANSACTION", 3)
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    await set_mode(db, page, PolicyMode.HIDE_AND_REPLY)
    comments = [add(sandbox, page, f"{EMAIL} ({i})") for i in range(4)]
    outcomes = await handle_page(pctx, page, comments)
    # [hide, reply] per comment: the slices cut pairs apart, a reply after its hide's commit.
    action_ids = [a for o in outcomes for a in o.action_ids]  # type: ignore[attr-defined]

    results = await perform_actions(pctx, page.tenant_id, action_ids, fresh=action_ids)

    assert [r.action_id for r in results] == action_ids
    assert {r.result for r in results} == {"done"}
    for c in comments:
        state = await comment_state(control, c.comment_id)
        assert state["hide_calls"] == 1 and len(state["page_replies"]) == 1


async def test_instagram_moderation_reads_the_comment_before_acting_again(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    store = sandbox.store
    ig_page = store.create_page("Nordlys IG", link_instagram=True)
    ig_user = ig_page.ig_user_id
    assert ig_user is not None
    media = store.add_ig_media(ig_user, "Nye priser!")
    node = store.add_comment(media.id, EMAIL, author_name="mette_k", notify=False)
    token = store.new_token("page", user_id=store.user_id, page_id=ig_page.id).value
    async with db.unit_of_work(page.tenant_id) as uow:
        connection = Connection(
            tenant_id=page.tenant_id,
            client_id=page.client_id,
            platform=Platform.INSTAGRAM,
            external_id=ig_user,
            name="nordlys_ig",
            status=ConnectionStatus.ACTIVE,
            tasks=["MODERATE"],
            country="DK",
        )
        store_token(pctx.cipher, connection, token)
        uow.session.add(connection)
    # An event without its text: the comment is read from Instagram's own edge.
    bare = CommentView(
        comment_id=node.id,
        post_id=None,
        parent_id=None,
        message=None,
        author_id=None,
        created_time=None,
        permalink_url=None,
    )
    fetched = await fetch_comment(pctx, connection, bare)
    assert fetched is not None
    assert (fetched.message, fetched.post_id, fetched.is_hidden) == (EMAIL, media.id, False)

    async with db.unit_of_work(page.tenant_id) as uow:
        [outcome] = await handle_comments(
            pctx, uow, connection, [fetched], source=FindingSource.REALTIME, received_at=utcnow()
        )
    [hide_id] = outcome.action_ids
    assert [r.result for r in await perform_actions(pctx, page.tenant_id, [hide_id])] == ["done"]
    assert store.nodes[node.id].is_hidden
    # The commit of that hide was lost: the retry reads Instagram first and does not hide again.
    async with db.unit_of_work(page.tenant_id) as uow:
        action = await uow.session.get(ModerationAction, (page.tenant_id, hide_id))
        assert action is not None
        action.status, action.done_at = ActionStatus.PENDING, None
    calls_before = len(store.nodes[node.id].hide_history)
    assert [r.result for r in await perform_actions(pctx, page.tenant_id, [hide_id])] == ["done"]
    assert len(store.nodes[node.id].hide_history) == calls_before
    async with db.unit_of_work(page.tenant_id) as uow:
        audited = (
            await uow.session.scalars(
                select(AuditEvent.data).where(
                    AuditEvent.tenant_id == page.tenant_id, AuditEvent.action == "comment.hidden"
                )
            )
        ).all()
    assert [d["already"] for d in audited] == [False, True]


async def test_a_batch_refused_as_a_whole_falls_back_to_single_calls(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    comments = [add(sandbox, page, f"{EMAIL} [{i}]") for i in range(4)]
    outcomes = await handle_page(pctx, page, comments)
    action_ids = [a for o in outcomes for a in o.action_ids]  # type: ignore[attr-defined]
    # Meta refuses the batch request itself (one 400 for the whole call).
    await control.post("/_sandbox/faults", json={"kind": "batch_error", "count": 1})

    results = await perform_actions(pctx, page.tenant_id, action_ids, fresh=action_ids)

    assert {r.result for r in results} == {"done"}
    assert (await control.get("/_sandbox/faults")).json()[0]["remaining"] == 0  # it did fire
    for c in comments:
        state = await comment_state(control, c.comment_id)
        assert state["is_hidden"] is True and state["hide_calls"] == 1


async def test_a_refused_hide_is_retried_with_back_off_then_fails_visibly(
    sandbox: RunningSandbox,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    [comment] = [add(sandbox, page, f"{PHONE} (refused)")]
    [outcome] = await handle_page(pctx, page, [comment])
    action_ids = list(outcome.action_ids)  # type: ignore[attr-defined]
    # Two 4xx answers to the hide, then Meta takes it.
    await control.post(
        "/_sandbox/faults",
        json={"kind": "server_error", "http_status": 400, "method": "POST", "count": 2},
    )

    first = await perform_actions(pctx, page.tenant_id, action_ids, fresh=action_ids)
    second = await perform_actions(pctx, page.tenant_id, action_ids)
    third = await perform_actions(pctx, page.tenant_id, action_ids)

    assert [first[0].result, second[0].result, third[0].result] == ["retry", "retry", "done"]
    assert first[0].retry_after is not None and second[0].retry_after is not None
    assert second[0].retry_after > first[0].retry_after  # back-off
    state = await comment_state(control, comment.comment_id)
    assert state["is_hidden"] is True and state["hide_calls"] == 1
    async with db.unit_of_work(page.tenant_id) as uow:
        finding = await uow.session.scalar(
            select(Finding).where(Finding.comment_id == comment.comment_id)
        )
    assert finding is not None and finding.status is FindingStatus.HIDDEN

    # Refused every time: bounded, then hide_failed and an audit event users can see.
    [other] = [add(sandbox, page, f"{PHONE} (never)")]
    [outcome] = await handle_page(pctx, page, [other])
    ids = list(outcome.action_ids)  # type: ignore[attr-defined]
    await control.post(
        "/_sandbox/faults", json={"kind": "server_error", "http_status": 400, "method": "POST"}
    )
    results = [
        (await perform_actions(pctx, page.tenant_id, ids))[0].result
        for _ in range(pctx.config.max_attempts)
    ]
    await control.delete("/_sandbox/faults")
    assert results == ["retry"] * (pctx.config.max_attempts - 1) + ["failed"]
    async with db.unit_of_work(page.tenant_id) as uow:
        finding = await uow.session.scalar(
            select(Finding).where(Finding.comment_id == other.comment_id)
        )
        failed_events = await uow.session.scalar(
            select(func.count()).where(
                AuditEvent.tenant_id == page.tenant_id,
                AuditEvent.action == "comment.hide_failed",
                AuditEvent.subject_id == str(finding.id if finding else ""),
            )
        )
    assert finding is not None and finding.status is FindingStatus.HIDE_FAILED
    assert failed_events == 1
