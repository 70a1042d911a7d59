"""Tenant B can neither read, list nor change tenant A's data: through every endpoint (code) and
through the database itself (row-level security)."""

from __future__ import annotations

import uuid

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service.apikeys.models import ApiKey
from service.db import Database
from service.tenancy.models import Client, Tenant
from tests.conftest import MakeTenant


async def test_every_endpoint_hides_other_tenants(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    a = await make_tenant("A")
    b = await make_tenant("B")
    a_client = (
        await client.post("/v1/clients", json={"name": "A's client"}, headers=a.headers)
    ).json()
    a_key = (
        await client.post(
            "/v1/api-keys", json={"name": "A's key", "scopes": ["read"]}, headers=a.headers
        )
    ).json()

    # Reads: another tenant's id answers exactly like a missing id.
    missing = uuid.uuid4()
    for path in (f"/v1/clients/{a_client['id']}", f"/v1/api-keys/{a_key['id']}"):
        r_other = await client.get(path, headers=b.headers)
        r_missing = await client.get(path.rsplit("/", 1)[0] + f"/{missing}", headers=b.headers)
        assert r_other.status_code == r_missing.status_code == 404
        assert r_other.json()["title"] == r_missing.json()["title"]
    # Lists.
    assert all(
        c["id"] != a_client["id"]
        for c in (await client.get("/v1/clients", headers=b.headers)).json()["items"]
    )
    assert all(
        k["id"] != a_key["id"]
        for k in (await client.get("/v1/api-keys", headers=b.headers)).json()["items"]
    )
    assert (await client.get("/v1/tenant", headers=b.headers)).json()["id"] == str(b.tenant_id)
    # Writes.
    r = await client.patch(
        f"/v1/clients/{a_client['id']}", json={"name": "pwned"}, headers=b.headers
    )
    assert r.status_code == 404
    assert (
        await client.delete(f"/v1/clients/{a_client['id']}", headers=b.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/v1/api-keys/{a_key['id']}", headers=b.headers)
    ).status_code == 404
    r = await client.post(
        "/v1/api-keys",
        json={"name": "x", "scopes": ["admin"], "client_id": a_client["id"]},
        headers=b.headers,
    )
    assert r.status_code == 422
    # A's data is untouched.
    got = (await client.get(f"/v1/clients/{a_client['id']}", headers=a.headers)).json()
    assert got["name"] == "A's client"
    got_key = (await client.get(f"/v1/api-keys/{a_key['id']}", headers=a.headers)).json()
    assert got_key["revoked_at"] is None
    # A's key cannot be used to reach B by rewriting the tenant part of the key.
    forged = a_key["secret"]  # never returned again; use admin key of A with B's tenant part
    assert (
        await client.get("/v1/tenant", headers={"Authorization": f"Bearer {forged}x"})
    ).status_code == 401


async def test_row_level_security_filters_a_forgotten_where(
    db: Database, make_tenant: MakeTenant
) -> None:
    a = await make_tenant("RLS A")
    b = await make_tenant("RLS B")
    async with db.unit_of_work(a.tenant_id) as uow:
        uow.session.add(Client(tenant_id=a.tenant_id, name="only-a"))
    async with db.unit_of_work(b.tenant_id) as uow:
        # No tenant filter at all: RLS still shows only B's rows.
        clients = (await uow.session.scalars(select(Client))).all()
        keys = (await uow.session.scalars(select(ApiKey))).all()
        tenants = (await uow.session.scalars(select(Tenant))).all()
        assert clients == [] or all(c.tenant_id == b.tenant_id for c in clients)
        assert keys and all(k.tenant_id == b.tenant_id for k in keys)
        assert [t.id for t in tenants] == [b.tenant_id]
        # Updates and deletes cannot reach A's rows either.
        result = await uow.session.execute(text("UPDATE clients SET name = 'x'"))
        assert result.rowcount == 0  # type: ignore[attr-defined]
        result = await uow.session.execute(
            text("DELETE FROM api_keys WHERE tenant_id = :a"), {"a": a.tenant_id}
        )
        assert result.rowcount == 0  # type: ignore[attr-defined]
    # Writing a row for another tenant is refused by the policy's WITH CHECK.
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.unit_of_work(b.tenant_id) as uow:
            uow.session.add(Client(tenant_id=a.tenant_id, name="planted"))
    async with db.unit_of_work(a.tenant_id) as uow:
        names = (await uow.session.scalars(select(Client.name))).all()
        assert "only-a" in names and "planted" not in names


async def test_app_role_is_bound_by_rls(db: Database, make_tenant: MakeTenant) -> None:
    t = await make_tenant()
    async with db.unit_of_work(t.tenant_id) as uow:
        row = (
            await uow.session.execute(
                text(
                    "SELECT current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r "
                    "WHERE r.rolname = current_user"
                )
            )
        ).one()
        assert row[0] == db.settings.db_app_role and row[1] is False and row[2] is False
        forced = (
            (
                await uow.session.execute(
                    text(
                        "SELECT relname FROM pg_class WHERE relname IN ('tenants','clients','api_keys') "
                        "AND relrowsecurity AND relforcerowsecurity"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert sorted(forced) == ["api_keys", "clients", "tenants"]
    # Without any tenant context (neither tenant nor system), nothing is visible.
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM clients"))).scalar() == 0
        assert (await conn.execute(text("SELECT count(*) FROM tenants"))).scalar() == 0
