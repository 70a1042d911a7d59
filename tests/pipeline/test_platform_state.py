"""The status users see follows the platform: a comment hidden on the platform (by a call whose
result is not recorded yet, or by a moderator) turns its finding hidden as soon as the page's
``hide`` webhook is processed, not when the pending hide comes round again."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from service.auth.types import TenantId
from service.connections.models import Connection
from service.db import Database, utcnow
from service.findings.models import Finding, FindingSource, FindingStatus
from service.inbox.models import InboxEvent
from service.moderation.models import ActionStatus, ModerationAction
from service.pipeline.actions import perform_actions
from service.pipeline.comments import CommentView, handle_comment
from service.pipeline.context import PipelineContext
from service.pipeline.inbox import process_event
from service.sandbox import RunningSandbox
from service.settings import Settings
from tests.conftest import MakeTenant
from tests.pipeline.conftest import comment_state, connect_page, deliver
from tests.sandbox.receiver import WebhookReceiver

pytestmark = [pytest.mark.e2e]

LEAKY = "Ring til mig på 40 52 37 46, tak"


async def test_a_hide_webhook_turns_the_pending_finding_hidden_at_once(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    tenant_id: TenantId = tenant.tenant_id
    page = await connect_page(db, settings, sandbox, tenant_id)
    node = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Ib", notify=False)
    async with db.unit_of_work(tenant_id) as uow:
        connection = await uow.session.get(Connection, (tenant_id, page.connection_id))
        assert connection is not None
        outcome = await handle_comment(
            pctx,
            uow,
            connection,
            CommentView(
                comment_id=node.id,
                post_id=page.post_id,
                parent_id=page.post_id,
                message=LEAKY,
                author_id=node.from_id,
                created_time=utcnow(),
                permalink_url=None,
            ),
            source=FindingSource.REALTIME,
            received_at=utcnow(),
        )
    [hide_id] = outcome.action_ids
    # Hidden on the platform (a worker's call that died before its commit, a moderator).
    sandbox.store.set_hidden(node.id, True)
    await deliver(db, settings, receiver, node.id, verb="hide")
    async with db.unit_of_work(tenant_id) as uow:
        event = await uow.session.scalar(
            select(InboxEvent).where(
                InboxEvent.connection_id == page.connection_id, InboxEvent.verb == "hide"
            )
        )
    assert event is not None

    result = await process_event(pctx, tenant_id, event.id)

    assert result.status == "done"
    async with db.unit_of_work(tenant_id) as uow:
        finding = await uow.session.scalar(select(Finding).where(Finding.comment_id == node.id))
        action = await uow.session.get(ModerationAction, (tenant_id, hide_id))
    assert finding is not None and finding.status is FindingStatus.HIDDEN
    assert finding.hidden_at is not None
    assert action is not None and action.status is ActionStatus.DONE
    # The pending hide is not performed again.
    assert (await perform_actions(pctx, tenant_id, [hide_id]))[0].result == "not_pending"
    assert (await comment_state(control, node.id))["hide_calls"] == 1
