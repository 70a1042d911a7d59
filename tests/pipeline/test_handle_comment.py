"""``handle_comment`` (the entry point shared with backfill scans) and its helpers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from service.connections.models import Connection
from service.db import Database, utcnow
from service.detection import Detector, EntityType
from service.findings.excerpt import masked_excerpt
from service.findings.models import Finding, FindingSource, FindingStatus
from service.moderation.models import ActionKind, ModerationAction
from service.moderation.service import choose_language, render_reply
from service.pipeline.actions import perform_pending_actions
from service.pipeline.comments import CommentView, HandleOutcome, handle_comment
from service.pipeline.context import DetectorCache, PipelineContext
from service.policies.defaults import DEFAULT_REPLY_TEMPLATES
from service.policies.models import Policy, PolicyMode
from service.policies.service import resolve
from service.sandbox import RunningSandbox
from service.settings import Settings
from tests.conftest import MakeTenant
from tests.pipeline.conftest import Page, connect_page

pytestmark = [pytest.mark.e2e]


def view(page: Page, comment_id: str, message: str, **extra: object) -> CommentView:
    values: dict[str, object] = {
        "comment_id": comment_id,
        "post_id": page.post_id,
        "parent_id": page.post_id,
        "message": message,
        "author_id": "5000000000000001",
        "created_time": utcnow(),
        "permalink_url": None,
        **extra,
    }
    return CommentView(**values)  # type: ignore[arg-type]


async def handle(
    pctx: PipelineContext, page: Page, comment: CommentView, source: FindingSource
) -> HandleOutcome:
    async with pctx.db.unit_of_work(page.tenant_id) as uow:
        connection = await uow.session.get(Connection, (page.tenant_id, page.connection_id))
        assert connection is not None
        return await handle_comment(
            pctx, uow, connection, comment, source=source, received_at=utcnow()
        )


async def test_policy_rules_shape_what_acts(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    async with db.unit_of_work(page.tenant_id) as uow:
        uow.session.add(
            Policy(
                tenant_id=page.tenant_id,
                client_id=page.client_id,
                mode=PolicyMode.HIDE,
                thresholds={"CUSTOMER_NUMBER": 0.5, "PHONE_NUMBER": 0.5},
                allowlist=["70 10 20 30"],
                custom_patterns=[{"name": "kundenr", "pattern": r"KN-\d{6}", "score": 0.9}],
            )
        )
    hotline = await handle(
        pctx, page, view(page, "c1", "Ring til jer på 70 10 20 30"), FindingSource.REALTIME
    )
    assert hotline == HandleOutcome(finding_id=None, acted=False, new=False)
    email = await handle(
        pctx, page, view(page, "c2", "Skriv til mette.k@gmail.com"), FindingSource.REALTIME
    )
    assert email.finding_id is None  # e-mail does not act under this policy
    customer = await handle(
        pctx, page, view(page, "c3", "Mit kundenummer er KN-123456"), FindingSource.SCAN
    )
    assert customer.new and customer.acted and len(customer.fresh_action_ids) == 1
    async with db.unit_of_work(page.tenant_id) as uow:
        finding = await uow.session.get(Finding, (page.tenant_id, customer.finding_id))
        assert finding is not None
        assert finding.types == ["CUSTOMER_NUMBER"] and finding.source is FindingSource.SCAN
        assert b"123456" not in finding.masked_excerpt_ciphertext
        assert b"kundenummer" not in finding.masked_excerpt_ciphertext
    # A repeat records nothing new and returns the still-pending hide.
    again = await handle(
        pctx, page, view(page, "c3", "Mit kundenummer er KN-123456"), FindingSource.POLL
    )
    assert again.finding_id == customer.finding_id and not again.new
    assert again.action_ids == customer.action_ids and again.fresh_action_ids == ()


async def test_a_reviewed_finding_is_final_and_known_hidden_comments_are_not_hidden_again(
    sandbox: RunningSandbox,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    pctx: PipelineContext,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    hidden = await handle(
        pctx,
        page,
        view(page, "h1", "Mit nummer er 40 52 37 46", is_hidden=True),
        FindingSource.POLL,
    )
    assert hidden.new and hidden.action_ids == ()
    async with db.unit_of_work(page.tenant_id) as uow:
        finding = await uow.session.get(Finding, (page.tenant_id, hidden.finding_id))
        assert finding is not None and finding.status is FindingStatus.HIDDEN
        assert finding.hidden_at is not None
        [action] = (await uow.session.scalars(select(ModerationAction))).all()
        assert action.kind is ActionKind.HIDE and action.status.value == "done"
        finding.status = FindingStatus.UNHIDDEN  # restored by a reviewer
    edited = await handle(
        pctx, page, view(page, "h1", "Nyt nummer: 22 33 44 55"), FindingSource.REALTIME
    )
    assert edited.finding_id == hidden.finding_id and not edited.acted
    assert edited.action_ids == ()
    assert await perform_pending_actions(pctx, page.tenant_id, edited.action_ids) == []


def test_masked_excerpt_keeps_the_text_around_the_findings_and_no_value() -> None:
    detector = Detector()
    text = "Hej. " + "Lang historie om min regning. " * 20 + "Ring 40 52 37 46." + " Tak" * 40
    found = detector.detect(text, region="DK")
    assert [f.type for f in found] == [EntityType.PHONE_NUMBER]
    excerpt = masked_excerpt(text, found)
    assert len(excerpt) <= 282 and excerpt.startswith("…") and excerpt.endswith("…")
    assert "•• •• •• 46" in excerpt and "40 52" not in excerpt
    short = "Ring 40 52 37 46"
    assert masked_excerpt(short, detector.detect(short, region="DK")) == "Ring •• •• •• 46"


def test_effective_policy_resolves_field_by_field() -> None:
    client_id, connection_id = uuid.uuid4(), uuid.uuid4()
    client = Policy(mode=PolicyMode.MONITOR, reply_templates={"da": "Hej {client_name}"})
    override = Policy(thresholds={"IBAN": 0.8}, reply_templates={"sv": "Hej {client_name}!"})
    effective = resolve(client_id, connection_id, client, override)
    assert effective.mode is PolicyMode.MONITOR and effective.sources["mode"] == "client"
    assert effective.thresholds == {"IBAN": 0.8}
    assert effective.sources["thresholds"] == "connection"
    assert effective.reply_templates["da"] == "Hej {client_name}"
    assert effective.reply_templates["sv"] == "Hej {client_name}!"
    assert effective.reply_templates["nb"] == DEFAULT_REPLY_TEMPLATES["nb"]
    default = resolve(client_id, connection_id, None, None)
    assert default.mode is PolicyMode.HIDE and set(default.sources.values()) == {"default"}
    assert len(default.thresholds) == len(EntityType)


def test_reply_language_and_rendering() -> None:
    policy = resolve(uuid.uuid4(), uuid.uuid4(), None, None)
    assert choose_language(policy, "fi") == "fi"
    assert choose_language(policy, None, "de") == "de"
    assert choose_language(policy, None, None, None) == "en"
    for language, template in DEFAULT_REPLY_TEMPLATES.items():
        text = render_reply(
            template, private_channel_url="https://x.example/chat", client_name="Nordlys"
        )
        assert "https://x.example/chat" in text and "Nordlys" in text, language
        assert "{" not in text and len(text) < 280
    injected = render_reply(
        "{client_name} {0} {x.__class__}", private_channel_url="u", client_name="N"
    )
    assert injected == "N {0} {x.__class__}"


def test_detector_cache_follows_the_rules() -> None:
    cache = DetectorCache(size=2)
    tenant = uuid.uuid4()
    first = cache.get(tenant, ["70 10 20 30"], [])
    assert cache.get(tenant, ["70 10 20 30"], []) is first
    assert cache.get(tenant, ["70 10 20 31"], []) is not first
    cache.get(uuid.uuid4(), [], [])
    assert len(cache) == 2
