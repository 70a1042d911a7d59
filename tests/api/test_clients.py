from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import MakeTenant

PROBLEM = "application/problem+json"


async def test_client_crud(client: AsyncTestClient[Litestar], make_tenant: MakeTenant) -> None:
    t = await make_tenant()
    r = await client.post(
        "/v1/clients",
        json={
            "name": "Nordlys Bank",
            "country": "NO",
            "default_language": "nb",
            "private_channel_url": "https://nordlys.no/chat",
        },
        headers=t.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "Nordlys Bank" and created["country"] == "NO"

    r = await client.get(f"/v1/clients/{created['id']}", headers=t.headers)
    assert r.status_code == 200 and r.json() == created

    r = await client.patch(
        f"/v1/clients/{created['id']}", json={"country": None, "name": "Nordlys"}, headers=t.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["country"] is None and r.json()["name"] == "Nordlys"
    assert r.json()["default_language"] == "nb"  # untouched fields stay

    r = await client.delete(f"/v1/clients/{created['id']}", headers=t.headers)
    assert r.status_code == 204
    r = await client.get(f"/v1/clients/{created['id']}", headers=t.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)


async def test_duplicate_name_is_conflict(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    assert (
        await client.post("/v1/clients", json={"name": "A"}, headers=t.headers)
    ).status_code == 201
    r = await client.post("/v1/clients", json={"name": "A"}, headers=t.headers)
    assert r.status_code == 409 and r.json()["title"] == "Conflict"
    # The same name in another tenant is fine: unique keys are per tenant.
    other = await make_tenant()
    assert (
        await client.post("/v1/clients", json={"name": "A"}, headers=other.headers)
    ).status_code == 201


async def test_cursor_pagination_walks_every_client_once(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    names = [f"client-{i}" for i in range(7)]
    for name in names:
        assert (
            await client.post("/v1/clients", json={"name": name}, headers=t.headers)
        ).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v1/clients", params=params, headers=t.headers)).json()
        assert set(body) == {"items", "next_cursor"}
        seen += [c["name"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(names))  # newest first, no gaps, no repeats


async def test_bad_input_is_a_clear_problem(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    h = t.headers | {"content-type": "application/json"}
    cases = [
        (b'{"name": "x"', 400, None),
        (b"", 400, None),
        (b'{"name": 5}', 422, "$.name"),
        (b'{"name": "ok", "colour": "red"}', 422, "$"),
        (b'{"name": "ok", "country": "Denmark"}', 422, "$.country"),
        (b'{"name": "ok", "default_language": "xx"}', 422, "$.default_language"),
        (
            b'{"name": "ok", "private_channel_url": "javascript:alert(1)"}',
            422,
            "$.private_channel_url",
        ),
        (b'{"name": ""}', 422, "$.name"),
        (b"[]", 422, "$"),
    ]
    for body, status, field in cases:
        r = await client.post("/v1/clients", content=body, headers=h)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        problem = r.json()
        assert problem["status"] == status and problem["detail"]
        if field:
            assert any(e["field"] == field for e in problem["errors"]), problem
    r = await client.post(
        "/v1/clients", content=b'{"name": "' + b"a" * 2_000_000 + b'"}', headers=h
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith(PROBLEM)
    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": "djE6eHh4"},
        {"limit": 0},
        {"limit": 1000},
        {"limit": "many"},
    ):
        r = await client.get("/v1/clients", params=params, headers=t.headers)
        assert r.status_code == 400, (params, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    r = await client.get(f"/v1/clients/{uuid.uuid4()}", headers=t.headers)
    assert r.status_code == 404
    r = await client.get("/v1/clients/not-a-uuid", headers=t.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    # Nothing stored was lost or changed by all of the above.
    body = (await client.get("/v1/clients", headers=t.headers)).json()
    assert body["items"] == []
