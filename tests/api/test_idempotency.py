"""Idempotency-Key on the POSTs that create things: a repeat gets the first answer (nothing is
created twice), another request with the same key is a 409, keys are per tenant, and a key that
was answered with a server error is forgotten."""

from __future__ import annotations

import uuid

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from service.db import Database
from tests.conftest import MakeTenant

PROBLEM = "application/problem+json"


async def _count_clients(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> int:
    return len((await client.get("/v1/clients", headers=headers)).json()["items"])


async def test_a_repeated_key_returns_the_first_answer(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    key = str(uuid.uuid4())
    headers = {**t.headers, "Idempotency-Key": key}
    first = await client.post("/v1/clients", json={"name": "Acme"}, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/v1/clients", json={"name": "Acme"}, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/json")
    assert await _count_clients(client, t.headers) == 1


async def test_the_same_key_with_another_body_is_a_409(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    headers = {**t.headers, "Idempotency-Key": "order-42"}
    assert (
        await client.post("/v1/clients", json={"name": "Acme"}, headers=headers)
    ).status_code == 201
    r = await client.post("/v1/clients", json={"name": "Other"}, headers=headers)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"].endswith("/idempotency-key-reused")
    # The same key on another operation is another request too.
    r = await client.post("/v1/api-keys", json={"name": "k", "scopes": ["read"]}, headers=headers)
    assert r.status_code == 409
    assert await _count_clients(client, t.headers) == 1


async def test_keys_are_per_tenant_and_optional(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    a, b = await make_tenant(), await make_tenant()
    for t in (a, b):
        r = await client.post(
            "/v1/clients", json={"name": "Acme"}, headers={**t.headers, "Idempotency-Key": "k1"}
        )
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    # Without the header nothing is remembered: a second create is a real second attempt.
    r1 = await client.post("/v1/clients", json={"name": "Beta"}, headers=a.headers)
    r2 = await client.post("/v1/clients", json={"name": "Gamma"}, headers=a.headers)
    assert r1.status_code == r2.status_code == 201
    assert await _count_clients(client, a.headers) == 3


async def test_client_errors_are_remembered_and_bad_keys_refused(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    headers = {**t.headers, "Idempotency-Key": "bad-body"}
    first = await client.post("/v1/clients", json={"name": ""}, headers=headers)
    assert first.status_code == 422
    again = await client.post("/v1/clients", json={"name": ""}, headers=headers)
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["errors"] == first.json()["errors"]
    r = await client.post(
        "/v1/clients", json={"name": "X"}, headers={**t.headers, "Idempotency-Key": "a b"}
    )
    assert r.status_code == 400 and r.json()["type"].endswith("/invalid-idempotency-key")


async def test_the_stored_answer_is_encrypted_and_expires(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant, db: Database
) -> None:
    t = await make_tenant()
    headers = {**t.headers, "Idempotency-Key": "key-with-secret"}
    created = await client.post(
        "/v1/api-keys", json={"name": "k", "scopes": ["read"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    async with db.unit_of_work(t.tenant_id) as uow:
        body = (
            await uow.session.execute(
                text("SELECT body FROM idempotency_keys WHERE key = 'key-with-secret'")
            )
        ).scalar_one()
        assert secret.encode() not in body
        # Expired: the key may be used again, for anything.
        await uow.session.execute(
            text("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
        )
    r = await client.post(
        "/v1/api-keys", json={"name": "other", "scopes": ["read"]}, headers=headers
    )
    assert r.status_code == 201 and r.json()["secret"] != secret
