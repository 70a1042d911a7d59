from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.db import Database
from tests.conftest import MakeTenant


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def new_key(
    client: AsyncTestClient[Litestar], admin: dict[str, str], **body: object
) -> dict[str, Any]:
    r = await client.post("/v1/api-keys", json={"name": "k", **body}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_secret_is_shown_once_and_only_its_hash_is_kept(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant, db: Database
) -> None:
    t = await make_tenant()
    created = await new_key(client, t.headers, scopes=["read"])
    assert created["secret"].startswith("wg_") and created["prefix"] in created["secret"]
    listed = (await client.get("/v1/api-keys", headers=t.headers)).json()["items"]
    assert all("secret" not in k for k in listed)
    assert any(k["id"] == created["id"] for k in listed)
    got = (await client.get(f"/v1/api-keys/{created['id']}", headers=t.headers)).json()
    assert "secret" not in got
    from sqlalchemy import text

    async with db.system_unit_of_work() as uow:
        rows = (await uow.session.execute(text("SELECT * FROM api_keys"))).mappings().all()
    # wg_<tenant><key id>_<secret>: the secret (base64url) may itself contain "_", so split once.
    secret_part = created["secret"].split("_", 2)[2].encode()
    assert len(secret_part) == 43
    assert rows and all(secret_part not in repr(dict(row)).encode() for row in rows)


async def test_scopes_are_enforced(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    read = bearer((await new_key(client, t.headers, scopes=["read"]))["secret"])
    detect = bearer((await new_key(client, t.headers, scopes=["detect"]))["secret"])
    assert (await client.get("/v1/clients", headers=read)).status_code == 200
    r = await client.post("/v1/clients", json={"name": "x"}, headers=read)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert (
        await client.patch("/v1/tenant", json={"retention_days": 5}, headers=read)
    ).status_code == 403
    assert (await client.get("/v1/api-keys", headers=read)).status_code == 403
    assert (await client.get("/v1/clients", headers=detect)).status_code == 403
    assert (await client.get("/v1/tenant", headers=detect)).status_code == 403


async def test_client_restricted_key_sees_only_its_client(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    a = (await client.post("/v1/clients", json={"name": "A"}, headers=t.headers)).json()
    b = (await client.post("/v1/clients", json={"name": "B"}, headers=t.headers)).json()
    key = bearer((await new_key(client, t.headers, scopes=["admin"], client_id=a["id"]))["secret"])
    items = (await client.get("/v1/clients", headers=key)).json()["items"]
    assert [c["id"] for c in items] == [a["id"]]
    assert (await client.get(f"/v1/clients/{b['id']}", headers=key)).status_code == 404
    assert (
        await client.patch(f"/v1/clients/{b['id']}", json={"name": "Z"}, headers=key)
    ).status_code == 404
    assert (
        await client.patch(f"/v1/clients/{a['id']}", json={"name": "A2"}, headers=key)
    ).status_code == 200
    assert (await client.post("/v1/clients", json={"name": "C"}, headers=key)).status_code == 403
    assert (
        await client.post("/v1/api-keys", json={"name": "n", "scopes": ["read"]}, headers=key)
    ).status_code == 403
    assert (
        await client.patch("/v1/tenant", json={"retention_days": 5}, headers=key)
    ).status_code == 403
    assert (await client.get(f"/v1/clients/{b['id']}", headers=t.headers)).json()["name"] == "B"


async def test_revoked_expired_and_malformed_keys_are_refused(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    created = await new_key(client, t.headers, scopes=["read"])
    key = bearer(created["secret"])
    assert (await client.get("/v1/tenant", headers=key)).status_code == 200
    got = (await client.get(f"/v1/api-keys/{created['id']}", headers=t.headers)).json()
    assert got["last_used_at"] is not None

    r = await client.delete(f"/v1/api-keys/{created['id']}", headers=t.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    r = await client.get("/v1/tenant", headers=key)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"].startswith("application/problem+json")

    r = await client.post(
        "/v1/api-keys",
        json={"name": "old", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"},
        headers=t.headers,
    )
    assert r.status_code == 422

    wrong_secret = created["secret"][:-4] + "AAAA"
    for header in (
        {},
        {"Authorization": "Basic abc"},
        bearer("nope"),
        bearer("wg_" + "a" * 40),
        bearer(wrong_secret),
        {"Authorization": "Bearer "},
    ):
        r = await client.get("/v1/tenant", headers=header)
        assert r.status_code == 401, header


async def test_key_expiry_is_enforced(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant, db: Database
) -> None:
    t = await make_tenant()
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    created = await new_key(client, t.headers, scopes=["read"], expires_at=future)
    assert (await client.get("/v1/tenant", headers=bearer(created["secret"]))).status_code == 200
    from sqlalchemy import text

    async with db.unit_of_work(t.tenant_id) as uow:  # time passes
        await uow.session.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 s' WHERE id = :id"),
            {"id": created["id"]},
        )
    assert (await client.get("/v1/tenant", headers=bearer(created["secret"]))).status_code == 401


async def test_create_key_for_unknown_client_is_rejected(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    other = await make_tenant()
    foreign = (await client.post("/v1/clients", json={"name": "F"}, headers=other.headers)).json()
    r = await client.post(
        "/v1/api-keys",
        json={"name": "x", "scopes": ["read"], "client_id": foreign["id"]},
        headers=t.headers,
    )
    assert r.status_code == 422
    r = await client.post("/v1/api-keys", json={"name": "x", "scopes": []}, headers=t.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "$.scopes"
