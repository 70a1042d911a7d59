from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.db import Database
from tests.conftest import MakeTenant
from tests.retention.support import add_page

DEFAULTS = {
    "findings_days": 90,
    "audit_events_days": 365,
    "inbox_events_days": 7,
    "webhook_deliveries_days": 30,
    "scans_days": 90,
}


async def test_tenant_retention_defaults_changes_and_resets(
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    r = await client.get("/v1/tenant/retention", headers=t.headers)
    assert r.status_code == 200 and r.json() == DEFAULTS

    r = await client.patch(
        "/v1/tenant/retention",
        json={"findings_days": 30, "audit_events_days": 30, "scans_days": 14},
        headers=t.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {**DEFAULTS, "findings_days": 30, "audit_events_days": 30, "scans_days": 14}
    # /v1/tenant's retention_days is the findings' period, both ways.
    assert (await client.get("/v1/tenant", headers=t.headers)).json()["retention_days"] == 30
    r = await client.patch("/v1/tenant", json={"retention_days": 45}, headers=t.headers)
    assert r.json()["retention_days"] == 45
    r = await client.patch("/v1/tenant/retention", json={"findings_days": None}, headers=t.headers)
    assert r.json()["findings_days"] == 90

    # The change is audited.
    events = (
        await client.get(
            "/v1/audit-events", params={"action": "retention.updated"}, headers=t.headers
        )
    ).json()["items"]
    assert events and events[-1]["data"]["changes"]["audit_events_days"] == 30


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audit_events_days": 29}, "$.audit_events_days"),
        ({"findings_days": 0}, "$.findings_days"),
        ({"findings_days": 3651}, "$.findings_days"),
        ({"inbox_events_days": 31}, "$.inbox_events_days"),
        ({"webhook_deliveries_days": 366}, "$.webhook_deliveries_days"),
        ({"scans_days": "ninety"}, "$.scans_days"),
        ({"forever": True}, "$"),
    ],
)
async def test_out_of_range_retention_is_a_clear_422(
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
    body: dict[str, object],
    field: str,
) -> None:
    t = await make_tenant()
    r = await client.patch("/v1/tenant/retention", json=body, headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field], r.json()
    assert (await client.get("/v1/tenant/retention", headers=t.headers)).json() == DEFAULTS


async def test_client_overrides_inherit_and_are_bounded(
    db: Database,
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    page = await add_page(db, t.tenant_id)
    url = f"/v1/clients/{page.client_id}/retention"
    r = await client.get(url, headers=t.headers)
    assert r.status_code == 200
    assert r.json()["overrides"] == {
        "findings_days": None,
        "inbox_events_days": None,
        "webhook_deliveries_days": None,
        "scans_days": None,
    }
    assert r.json()["effective"] == DEFAULTS

    await client.patch("/v1/tenant/retention", json={"scans_days": 60}, headers=t.headers)
    r = await client.patch(url, json={"findings_days": 10}, headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["effective"] == {**DEFAULTS, "findings_days": 10, "scans_days": 60}
    r = await client.patch(url, json={"findings_days": None}, headers=t.headers)
    assert r.json()["effective"]["findings_days"] == 90

    # The audit trail is one chain per tenant: a client cannot set its own period.
    r = await client.patch(url, json={"audit_events_days": 400}, headers=t.headers)
    assert r.status_code == 422 and "audit_events_days" in r.json()["detail"]
    r = await client.patch(url, json={"inbox_events_days": 0}, headers=t.headers)
    assert r.status_code == 422

    # Another tenant's client (or none) is a 404, like everywhere.
    other = await make_tenant()
    assert (await client.get(url, headers=other.headers)).status_code == 404
    r = await client.patch(url, json={"findings_days": 5}, headers=other.headers)
    assert r.status_code == 404
    r = await client.get(f"/v1/clients/{uuid.uuid4()}/retention", headers=t.headers)
    assert r.status_code == 404


async def test_only_admins_change_retention(
    client: AsyncTestClient[Litestar],
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    r = await client.post(
        "/v1/api-keys", json={"name": "reader", "scopes": ["read"]}, headers=t.headers
    )
    read = {"Authorization": f"Bearer {r.json()['secret']}"}
    assert (await client.get("/v1/tenant/retention", headers=read)).status_code == 200
    r = await client.patch("/v1/tenant/retention", json={"findings_days": 5}, headers=read)
    assert r.status_code == 403
