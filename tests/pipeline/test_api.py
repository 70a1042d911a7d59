"""Policies and findings over HTTP: CRUD, validation, unhide/confirm, tenant isolation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.audit.models import AuditEvent
from service.db import Database
from service.policies.defaults import DEFAULT_REPLY_TEMPLATES
from service.sandbox import RunningSandbox
from service.settings import Settings
from service.workers.jobs import execute_action, process_inbox_event
from tests.conftest import MakeTenant, TenantHandle
from tests.pipeline.conftest import Page, comment_state, connect_page, deliver, event_ids
from tests.sandbox.receiver import WebhookReceiver

pytestmark = [pytest.mark.e2e]

Api = AsyncTestClient[Litestar]
LEAKY = "Jeg har stadig ikke fået svar. Ring på 40 52 37 46 i aften, tak."


async def audit_actions(db: Database, tenant: TenantHandle) -> list[str]:
    async with db.unit_of_work(tenant.tenant_id) as uow:
        return list(
            (await uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq))).all()
        )


async def hidden_finding(
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    db: Database,
    settings: Settings,
    tenant: TenantHandle,
    ctx: dict[str, Any],
) -> tuple[Page, str]:
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    node = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Mette Kunde")
    await deliver(db, settings, receiver, node.id)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    return page, node.id


async def test_client_policy_defaults_then_put_and_audit(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    url = f"/v1/clients/{page.client_id}/policy"
    default = (await api.get(url, headers=tenant.headers)).json()
    assert default["mode"] == "hide" and default["stored"] is False
    assert default["thresholds"]["PHONE_NUMBER"] == 0.5 and len(default["thresholds"]) == 12
    assert default["reply_templates"]["da"].startswith("Hej! Vi har skjult din kommentar")

    body = {
        "mode": "hide_and_reply",
        "thresholds": {"PHONE_NUMBER": 0.7, "DK_CPR": 0.5},
        "allowlist": ["70 10 20 30"],
        "custom_patterns": [{"name": "kundenummer", "pattern": "KN-\\d{6}"}],
        "reply_templates": {"da": "Hej! Skriv til os på {private_channel_url}. {client_name}"},
    }
    put = await api.put(url, json=body, headers=tenant.headers)
    assert put.status_code == 200, put.text
    stored = put.json()
    assert stored["stored"] is True and stored["mode"] == "hide_and_reply"
    assert stored["thresholds"] == {"PHONE_NUMBER": 0.7, "DK_CPR": 0.5}
    assert stored["custom_patterns"][0]["type"] == "CUSTOMER_NUMBER"
    assert stored["reply_templates"]["da"].startswith("Hej! Skriv til os")
    assert stored["reply_templates"]["sv"] == DEFAULT_REPLY_TEMPLATES["sv"]
    assert (await api.get(url, headers=tenant.headers)).json() == stored
    assert "policy.updated" in await audit_actions(db, tenant)

    # PUT replaces: what is left out goes back to the default.
    again = (await api.put(url, json={"mode": "monitor"}, headers=tenant.headers)).json()
    assert again["mode"] == "monitor" and again["allowlist"] == []
    assert again["thresholds"]["EMAIL_ADDRESS"] == 0.5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"custom_patterns": [{"name": "bad", "pattern": "(?<=KN)\\d+"}]},
            "$.custom_patterns[0].pattern",
        ),
        (
            {
                "custom_patterns": [
                    {"name": "ok", "pattern": "A\\d"},
                    {"name": "x", "pattern": "(a"},
                ]
            },
            "$.custom_patterns[1].pattern",
        ),
        ({"reply_templates": {"da": "Hej {navn}"}}, "$.reply_templates.da"),
        ({"reply_templates": {"da": "Hej {"}}, "$.reply_templates.da"),
        ({"thresholds": {"PHONE_NUMBER": 1.5}}, "$.thresholds"),
        ({"thresholds": {"SHOE_SIZE": 0.5}}, "$.thresholds"),
        ({"mode": "delete"}, "$.mode"),
        ({"colour": "red"}, "$"),
    ],
)
async def test_invalid_policies_are_422_with_the_field(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
    body: dict[str, Any],
    field: str,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    for url in (
        f"/v1/clients/{page.client_id}/policy",
        f"/v1/connections/{page.connection_id}/policy",
    ):
        response = await api.put(url, json=body, headers=tenant.headers)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"].startswith(field) for e in problem["errors"]), problem
    if "custom_patterns" in body:
        assert "RE2" in problem["detail"] or "not valid" in problem["detail"]


async def test_connection_override_inherits_and_resolves(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    h = tenant.headers
    client_url = f"/v1/clients/{page.client_id}/policy"
    url = f"/v1/connections/{page.connection_id}/policy"
    empty = (await api.get(url, headers=h)).json()
    assert empty["stored"] is False and empty["mode"] is None

    await api.put(
        client_url,
        json={
            "mode": "monitor",
            "allowlist": ["70 10 20 30"],
            "reply_templates": {"en": "Hi from {client_name}"},
        },
        headers=h,
    )
    put = await api.put(
        url, json={"mode": "hide", "reply_templates": {"da": "Hej {client_name}"}}, headers=h
    )
    assert put.status_code == 200, put.text
    assert put.json()["allowlist"] is None  # inherits

    effective = (await api.get(url + "/effective", headers=h)).json()
    assert effective["mode"] == "hide" and effective["sources"]["mode"] == "connection"
    assert effective["allowlist"] == ["70 10 20 30"]
    assert effective["sources"]["allowlist"] == "client"
    assert effective["sources"]["thresholds"] == "default"
    assert effective["reply_templates"]["da"] == "Hej {client_name}"
    assert effective["reply_templates"]["en"] == "Hi from {client_name}"
    assert effective["reply_templates"]["fi"] == DEFAULT_REPLY_TEMPLATES["fi"]

    deleted = await api.delete(url, headers=h)
    assert deleted.status_code == 204
    assert (await api.delete(url, headers=h)).status_code == 204  # idempotent
    effective = (await api.get(url + "/effective", headers=h)).json()
    assert effective["mode"] == "monitor" and effective["sources"]["mode"] == "client"
    actions = await audit_actions(db, tenant)
    assert actions.count("policy.override_updated") == 1
    assert actions.count("policy.override_deleted") == 1


async def test_findings_list_get_unhide_and_confirm(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    control: httpx.AsyncClient,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page, comment_id = await hidden_finding(sandbox, receiver, db, settings, tenant, ctx)
    h = tenant.headers
    listed = (await api.get("/v1/findings", headers=h)).json()
    [item] = listed["items"]
    assert listed["next_cursor"] is None
    assert item["status"] == "hidden" and item["comment_id"] == comment_id
    assert item["entities"][0]["type"] == "PHONE_NUMBER"
    assert "40 52 37 46" not in str(item) and "normalized" not in str(item)
    for query, expected in [
        ({"type": "PHONE_NUMBER"}, 1),
        ({"type": "IBAN"}, 0),
        ({"status": "hidden"}, 1),
        ({"status": "monitored"}, 0),
        ({"client_id": str(page.client_id)}, 1),
        ({"connection_id": str(uuid.uuid4())}, 0),
        ({"since": "2000-01-01T00:00:00Z"}, 1),
        ({"until": "2000-01-01T00:00:00Z"}, 0),
    ]:
        got = (await api.get("/v1/findings", params=query, headers=h)).json()["items"]
        assert len(got) == expected, query
    bad = await api.get("/v1/findings", params={"type": "SHOE"}, headers=h)
    assert bad.status_code == 400
    one = await api.get(f"/v1/findings/{item['id']}", headers=h)
    assert one.status_code == 200 and one.json()["id"] == item["id"]

    unhide = await api.post(f"/v1/findings/{item['id']}/unhide", headers=h)
    assert unhide.status_code == 202, unhide.text
    action = unhide.json()["action"]
    assert action["kind"] == "unhide" and action["status"] == "pending"
    # The worker performs it (here: the job function, directly).
    assert await execute_action(ctx, str(tenant.tenant_id), action["id"]) == "done"
    assert (await comment_state(control, comment_id))["is_hidden"] is False
    after = (await api.get(f"/v1/findings/{item['id']}", headers=h)).json()
    assert after["status"] == "unhidden" and after["reviewed_by"].startswith("api_key:")
    # Asking again changes nothing on the platform.
    again = await api.post(f"/v1/findings/{item['id']}/unhide", headers=h)
    assert again.status_code == 202 and again.json()["action"]["status"] == "done"
    history = (await comment_state(control, comment_id))["hide_history"]
    assert [e["hidden"] for e in history] == [True, False]
    actions = await audit_actions(db, tenant)
    assert actions.count("finding.unhide_requested") == 1
    assert actions.count("comment.unhidden") == 1
    conflict = await api.post(f"/v1/findings/{item['id']}/confirm", headers=h)
    assert conflict.status_code == 409


async def test_confirm_marks_reviewed_once(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    await hidden_finding(sandbox, receiver, db, settings, tenant, ctx)
    [item] = (await api.get("/v1/findings", headers=tenant.headers)).json()["items"]
    for _ in range(2):
        confirmed = await api.post(f"/v1/findings/{item['id']}/confirm", headers=tenant.headers)
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "confirmed"
        assert confirmed.json()["reviewed_at"] is not None
    assert (await audit_actions(db, tenant)).count("finding.confirmed") == 1


async def test_unhide_of_a_comment_never_hidden_is_409(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    await api.put(
        f"/v1/clients/{page.client_id}/policy", json={"mode": "monitor"}, headers=tenant.headers
    )
    node = sandbox.store.add_comment(page.post_id, LEAKY, author_name="Mette Kunde")
    await deliver(db, settings, receiver, node.id)
    for event_id in await event_ids(db, page):
        await process_inbox_event(ctx, str(page.tenant_id), event_id)
    [item] = (await api.get("/v1/findings", headers=tenant.headers)).json()["items"]
    assert item["status"] == "monitored"
    response = await api.post(f"/v1/findings/{item['id']}/unhide", headers=tenant.headers)
    assert response.status_code == 409


async def test_another_tenant_gets_404_everywhere(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    make_tenant: MakeTenant,
    ctx: dict[str, Any],
) -> None:
    owner = await make_tenant()
    other = await make_tenant()
    page, _ = await hidden_finding(sandbox, receiver, db, settings, owner, ctx)
    [item] = (await api.get("/v1/findings", headers=owner.headers)).json()["items"]
    h = other.headers
    conn = f"/v1/connections/{page.connection_id}/policy"
    for method, url, body in [
        ("GET", f"/v1/clients/{page.client_id}/policy", None),
        ("PUT", f"/v1/clients/{page.client_id}/policy", {"mode": "monitor"}),
        ("GET", conn, None),
        ("PUT", conn, {"mode": "monitor"}),
        ("DELETE", conn, None),
        ("GET", conn + "/effective", None),
        ("GET", f"/v1/findings/{item['id']}", None),
        ("POST", f"/v1/findings/{item['id']}/unhide", None),
        ("POST", f"/v1/findings/{item['id']}/confirm", None),
    ]:
        response = await api.request(method, url, json=body, headers=h)
        assert response.status_code == 404, (method, url, response.text)
    assert (await api.get("/v1/findings", headers=h)).json()["items"] == []
    listed = await api.get("/v1/findings", params={"client_id": str(page.client_id)}, headers=h)
    assert listed.json()["items"] == []
    # Nothing changed for the owner.
    mine = (await api.get(f"/v1/findings/{item['id']}", headers=owner.headers)).json()
    assert mine["status"] == "hidden"
    policy = (await api.get(f"/v1/clients/{page.client_id}/policy", headers=owner.headers)).json()
    assert policy["stored"] is False


async def test_read_keys_cannot_change_policies_or_findings(
    api: Api,
    db: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    make_tenant: MakeTenant,
) -> None:
    tenant = await make_tenant()
    page = await connect_page(db, settings, sandbox, tenant.tenant_id)
    created = await api.post(
        "/v1/api-keys", json={"name": "reader", "scopes": ["read"]}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    reader = {"Authorization": f"Bearer {created.json()['secret']}"}
    url = f"/v1/clients/{page.client_id}/policy"
    assert (await api.get(url, headers=reader)).status_code == 200
    assert (await api.put(url, json={"mode": "monitor"}, headers=reader)).status_code == 403
    fake = uuid.uuid4()
    assert (await api.post(f"/v1/findings/{fake}/unhide", headers=reader)).status_code == 403
