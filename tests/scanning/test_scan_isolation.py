"""Scans are the tenant's own, and a client-restricted key sees only its client's."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.db import Database
from service.sandbox import RunningSandbox
from service.settings import Settings
from tests.conftest import MakeTenant
from tests.scanning.support import connect_page, issue_key, new_sandbox_page

Client = AsyncTestClient[Litestar]


async def test_another_tenant_sees_none_of_the_scans(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
) -> None:
    a, b = await make_tenant(), await make_tenant()
    connection = await connect_page(
        db, settings, a.tenant_id, sandbox, await new_sandbox_page(sandbox)
    )
    created = await api.post(
        "/v1/scans", json={"connection_id": str(connection.id)}, headers=a.headers
    )
    assert created.status_code == 202
    scan_id = created.json()["id"]

    assert (await api.get(f"/v1/scans/{scan_id}", headers=b.headers)).status_code == 404
    assert (await api.post(f"/v1/scans/{scan_id}/cancel", headers=b.headers)).status_code == 404
    listed = (await api.get("/v1/scans", headers=b.headers)).json()
    assert listed == {"items": [], "next_cursor": None}
    by_connection = await api.get(
        "/v1/scans", params={"connection_id": str(connection.id)}, headers=b.headers
    )
    assert by_connection.json()["items"] == []
    # Nor can B scan A's page through A's connection id.
    stolen = await api.post(
        "/v1/scans", json={"connection_id": str(connection.id)}, headers=b.headers
    )
    assert stolen.status_code == 404

    mine = (await api.get("/v1/scans", headers=a.headers)).json()["items"]
    assert [s["id"] for s in mine] == [scan_id]
    assert (await api.get(f"/v1/scans/{scan_id}", headers=a.headers)).status_code == 200


async def test_keys_restricted_to_a_client_and_scopes(
    api: Client,
    db: Database,
    settings: Settings,
    make_tenant: MakeTenant,
    sandbox: RunningSandbox,
) -> None:
    tenant = await make_tenant()
    first = await connect_page(
        db, settings, tenant.tenant_id, sandbox, await new_sandbox_page(sandbox)
    )
    second = await connect_page(
        db, settings, tenant.tenant_id, sandbox, await new_sandbox_page(sandbox)
    )
    ids = []
    for connection in (first, second):
        response = await api.post(
            "/v1/scans", json={"connection_id": str(connection.id)}, headers=tenant.headers
        )
        ids.append(response.json()["id"])
    # Newest first, one per page.
    page1 = (await api.get("/v1/scans", params={"limit": 1}, headers=tenant.headers)).json()
    page2 = (
        await api.get(
            "/v1/scans", params={"limit": 1, "cursor": page1["next_cursor"]}, headers=tenant.headers
        )
    ).json()
    assert [page1["items"][0]["id"], page2["items"][0]["id"]] == ids[::-1]
    assert page2["next_cursor"] is None

    restricted = await issue_key(api, tenant.headers, ["admin"], client_id=first.client_id)
    seen = (await api.get("/v1/scans", headers=restricted)).json()["items"]
    assert [s["id"] for s in seen] == [ids[0]]
    assert (await api.get(f"/v1/scans/{ids[1]}", headers=restricted)).status_code == 404
    assert (await api.post(f"/v1/scans/{ids[1]}/cancel", headers=restricted)).status_code == 404

    reader = await issue_key(api, tenant.headers, ["read"])
    assert (await api.get(f"/v1/scans/{ids[0]}", headers=reader)).status_code == 200
    assert (await api.post(f"/v1/scans/{ids[0]}/cancel", headers=reader)).status_code == 403
    refused = await api.post("/v1/scans", json={"connection_id": str(first.id)}, headers=reader)
    assert refused.status_code == 403
    naive = await api.post(
        "/v1/scans",
        json={"connection_id": str(first.id), "since": "2025-01-01T00:00:00"},
        headers=tenant.headers,
    )
    assert naive.status_code == 422
