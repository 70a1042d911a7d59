from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.tenancy.models import TenantKind
from tests.conftest import MakeTenant


async def test_get_and_update_tenant(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant("Fjord Rail", TenantKind.COMPANY)
    r = await client.get("/v1/tenant", headers=t.headers)
    assert r.status_code == 200
    assert r.json()["name"] == "Fjord Rail" and r.json()["kind"] == "company"
    assert r.json()["id"] == str(t.tenant_id)
    # A company is its own first client.
    clients = (await client.get("/v1/clients", headers=t.headers)).json()["items"]
    assert [c["name"] for c in clients] == ["Fjord Rail"]

    r = await client.patch("/v1/tenant", json={"retention_days": 30}, headers=t.headers)
    assert r.status_code == 200 and r.json()["retention_days"] == 30
    assert r.json()["name"] == "Fjord Rail"
    for bad in (
        {"retention_days": 0},
        {"retention_days": None},
        {"kind": "agency"},
        {"name": "  "},
    ):
        r = await client.patch("/v1/tenant", json=bad, headers=t.headers)
        assert r.status_code == 422, (bad, r.text)
    assert (await client.get("/v1/tenant", headers=t.headers)).json()["retention_days"] == 30
