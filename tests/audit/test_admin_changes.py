"""Every change an admin makes is in the audit trail: who (the key), what (field names), never a
secret or a value."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from service.tenancy.models import TenantKind
from tests.conftest import MakeTenant


async def _events(client: AsyncTestClient, headers: dict[str, str]) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    response = await client.get("/v1/audit-events", params={"order": "seq"}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_new_tenant_starts_its_trail_with_its_tenant_client_and_key(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant(kind=TenantKind.COMPANY)
    events = await _events(client, t.headers)
    assert [(e["action"], e["actor"]) for e in events] == [
        ("tenant.created", "system:onboarding"),
        ("client.created", "system:onboarding"),
        ("api_key.created", "system:onboarding"),
    ]
    assert events[2]["data"] == {"scopes": ["admin"], "client_id": None, "expires": False}


async def test_keys_clients_and_the_tenant_changed_by_an_admin_are_audited(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    h = t.headers
    admin_key = (await client.get("/v1/api-keys", headers=h)).json()["items"][0]["id"]
    actor = f"api_key:{admin_key}"
    before = len(await _events(client, h))

    created = await client.post(
        "/v1/clients", json={"name": "Nordlys", "external_ref": "crm-7", "country": "DK"}, headers=h
    )
    client_id = created.json()["id"]
    await client.patch(f"/v1/clients/{client_id}", json={"name": "Nordlys A/S"}, headers=h)
    key = await client.post(
        "/v1/api-keys",
        json={"name": "Anna Jensen's key", "scopes": ["read"], "client_id": client_id},
        headers=h,
    )
    key_id, secret = key.json()["id"], key.json()["secret"]
    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=h)).status_code in (200, 204)
    await client.delete(f"/v1/api-keys/{key_id}", headers=h)  # revoking twice: one event
    await client.patch(
        "/v1/tenant", json={"name": "Nordlys Agency", "retention_days": 90}, headers=h
    )
    await client.patch("/v1/tenant", json={}, headers=h)  # no change: no event
    assert (await client.delete(f"/v1/clients/{client_id}", headers=h)).status_code == 204

    events = (await _events(client, h))[before:]
    assert [(e["action"], e["subject_type"]) for e in events] == [
        ("client.created", "client"),
        ("client.updated", "client"),
        ("api_key.created", "api_key"),
        ("api_key.revoked", "api_key"),
        ("tenant.updated", "tenant"),
        ("client.deleted", "client"),
    ]
    assert {e["actor"] for e in events} == {actor}
    assert events[0]["data"] == {"fields": ["country", "external_ref", "name"]}
    assert events[1]["data"] == {"fields": ["name"]}
    assert events[2]["subject_id"] == key_id
    assert events[2]["data"] == {"scopes": ["read"], "client_id": client_id, "expires": False}
    assert events[4]["data"] == {"fields": ["name", "retention_days"]}
    # Names, references and secrets stay out of the trail.
    trail = str(events)
    for value in ("Nordlys", "crm-7", "Anna", secret, secret[-12:]):
        assert value not in trail
    verified = await client.get("/v1/audit-events/verify", headers=h)
    assert verified.json()["valid"] is True
