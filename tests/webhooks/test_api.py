"""The webhook endpoints and deliveries API: contract, tenancy, client restriction, SSRF."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from service.api.app import create_app
from service.db import Database
from service.settings import _DEV_ENCRYPTION_KEY
from service.webhooks.events import EventType
from service.webhooks.models import SECRET_PURPOSE, WebhookEndpoint
from tests.conftest import MakeTenant, TenantHandle, make_settings
from tests.webhooks.conftest import FAST, MakePage, RunWorker, create_endpoint
from tests.webhooks.test_delivery import emit_all

Api = AsyncTestClient[Litestar]


@pytest_asyncio.fixture(scope="module")
async def production_api(database_url: str) -> AsyncIterator[Api]:
    settings = make_settings(
        database_url,
        WALLGUARD_ENV="production",
        WALLGUARD_ENCRYPTION_KEYS=_DEV_ENCRYPTION_KEY,
        WALLGUARD_SECRET_KEY="wallguard-dev-secret",
    )
    assert settings.webhooks_allow_private is False
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_crud_and_the_secret_shown_once(
    api: Api, db: Database, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    created = await create_endpoint(
        api,
        tenant,
        "http://127.0.0.1:9/hook",
        event_types=["finding.created"],
        description="dashboard",
    )
    assert created["secret"].startswith("whsec_") and created["enabled"] is True
    assert created["event_types"] == ["finding.created"] and created["client_id"] is None
    endpoint_id = created["id"]

    r = await api.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)
    assert r.status_code == 200 and "secret" not in r.json()
    # Stored encrypted, bound to the tenant.
    async with db.system_unit_of_work() as uow:
        row = (
            await uow.session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
            )
        ).one()
    assert created["secret"].encode() not in row.secret_ciphertext
    from service.crypto import Cipher

    assert (
        Cipher((_DEV_ENCRYPTION_KEY,)).decrypt_text(
            row.secret_ciphertext, tenant_id=row.tenant_id, purpose=SECRET_PURPOSE
        )
        == created["secret"]
    )

    r = await api.patch(
        f"/v1/webhook-endpoints/{endpoint_id}",
        json={"event_types": [], "description": None, "enabled": False},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["event_types"] == [] and r.json()["description"] is None
    assert r.json()["enabled"] is False and r.json()["disabled_reason"].startswith(
        "disabled by api_key:"
    )

    for _ in range(2):
        await create_endpoint(api, tenant, "http://127.0.0.1:9/other")
    r = await api.get("/v1/webhook-endpoints", params={"limit": 2}, headers=tenant.headers)
    page1 = r.json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    r = await api.get(
        "/v1/webhook-endpoints",
        params={"limit": 2, "cursor": page1["next_cursor"]},
        headers=tenant.headers,
    )
    assert [e["id"] for e in r.json()["items"]] == [endpoint_id] and r.json()["next_cursor"] is None

    r = await api.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)
    assert r.status_code == 204
    r = await api.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)
    assert r.status_code == 404


async def test_another_tenants_ids_answer_404(
    api: Api,
    db: Database,
    make_page: MakePage,
    make_tenant: MakeTenant,
    listener: Any,
    run_worker: RunWorker,
) -> None:
    page = await make_page()
    other = await make_tenant()
    receiver = listener()
    created = await create_endpoint(api, page.tenant, receiver.url)
    receiver.secrets = [created["secret"]]
    await emit_all(db, page, [EventType("scan.completed")])
    await run_worker()
    r = await api.get("/v1/webhook-deliveries", headers=page.tenant.headers)
    delivery_id = r.json()["items"][0]["id"]

    endpoint = f"/v1/webhook-endpoints/{created['id']}"
    for method, path, body in [
        ("GET", endpoint, None),
        ("PATCH", endpoint, {"enabled": False}),
        ("DELETE", endpoint, None),
        ("POST", f"{endpoint}/rotate-secret", None),
        ("POST", f"{endpoint}/test", None),
        ("POST", f"{endpoint}/replay", {"since": "2020-01-01T00:00:00Z"}),
        ("GET", f"/v1/webhook-deliveries/{delivery_id}", None),
        ("POST", f"/v1/webhook-deliveries/{delivery_id}/replay", None),
    ]:
        r = await api.request(method, path, json=body, headers=other.headers)
        assert r.status_code == 404, (method, path, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await api.get("/v1/webhook-endpoints", headers=other.headers)
    assert r.json()["items"] == []
    r = await api.get("/v1/webhook-deliveries", headers=other.headers)
    assert r.json()["items"] == []
    # Still there for its owner.
    r = await api.get(endpoint, headers=page.tenant.headers)
    assert r.status_code == 200 and r.json()["enabled"] is True


async def client_key(api: Api, tenant: TenantHandle, client_id: uuid.UUID) -> TenantHandle:
    r = await api.post(
        "/v1/api-keys",
        json={"name": "bank", "scopes": ["admin"], "client_id": str(client_id)},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return TenantHandle(tenant_id=tenant.tenant_id, api_key=r.json()["secret"])


async def test_a_client_restricted_key_sees_only_its_clients_endpoints(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    bank = await make_page()
    insurer = await make_page(bank.tenant)
    bank_key = await client_key(api, bank.tenant, bank.client_id)
    agency_wide = await create_endpoint(api, bank.tenant, "http://127.0.0.1:9/agency")
    insurer_endpoint = await create_endpoint(
        api, bank.tenant, "http://127.0.0.1:9/insurer", client_id=str(insurer.client_id)
    )

    # Created by the bank's key: restricted to the bank, whether it says so or not.
    mine = await create_endpoint(api, bank_key, "http://127.0.0.1:9/bank")
    assert mine["client_id"] == str(bank.client_id)
    r = await api.post(
        "/v1/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/x", "client_id": str(insurer.client_id)},
        headers=bank_key.headers,
    )
    assert r.status_code == 404
    r = await api.get("/v1/webhook-endpoints", headers=bank_key.headers)
    assert [e["id"] for e in r.json()["items"]] == [mine["id"]]
    for other in (agency_wide, insurer_endpoint):
        r = await api.get(f"/v1/webhook-endpoints/{other['id']}", headers=bank_key.headers)
        assert r.status_code == 404

    # Deliveries: the bank's key sees those to its own endpoints only.
    receiver = listener()
    await api.patch(
        f"/v1/webhook-endpoints/{mine['id']}", json={"url": receiver.url}, headers=bank_key.headers
    )
    receiver.secrets = [mine["secret"]]
    await emit_all(db, bank, [EventType("finding.created")])
    await run_worker()
    r = await api.get("/v1/webhook-deliveries", headers=bank_key.headers)
    assert {d["endpoint_id"] for d in r.json()["items"]} == {mine["id"]}
    r = await api.get("/v1/webhook-deliveries", headers=bank.tenant.headers)
    assert {d["endpoint_id"] for d in r.json()["items"]} == {mine["id"], agency_wide["id"]}
    agency_delivery = next(d for d in r.json()["items"] if d["endpoint_id"] == agency_wide["id"])
    r = await api.get(f"/v1/webhook-deliveries/{agency_delivery['id']}", headers=bank_key.headers)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://localhost/x", "loopback"),
        ("https://127.0.0.1:8443/x", "loopback"),
        ("https://[::1]/x", "loopback"),
        ("https://10.0.0.7/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://0.0.0.0/x", "unspecified"),
        ("https://224.0.0.1/x", "multicast"),
        ("https://user:pw@93.184.216.34/x", "password"),
        ("https://does-not-exist.invalid/x", "does not resolve"),
    ],
)
async def test_the_guard_refuses_urls_at_creation_in_production(
    production_api: Api, make_tenant: MakeTenant, url: str, reason: str
) -> None:
    tenant = await make_tenant()
    r = await production_api.post(
        "/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == "$.url"
    assert reason in problem["errors"][0]["message"]


async def test_a_public_https_url_is_accepted_in_production(
    production_api: Api, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    r = await production_api.post(
        "/v1/webhook-endpoints", json={"url": "https://93.184.216.34/hooks"}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "ftp://example.com"},
        {"url": "http://127.0.0.1/x", "event_types": ["finding.exploded"]},
        {"url": "http://127.0.0.1/x", "extra": 1},
        {"url": "http://127.0.0.1/x", "description": "x" * 501},
    ],
)
async def test_bad_bodies_are_clear_4xx(
    api: Api, make_tenant: MakeTenant, body: dict[str, Any]
) -> None:
    tenant = await make_tenant()
    r = await api.post("/v1/webhook-endpoints", json=body, headers=tenant.headers)
    assert r.status_code in {400, 422}, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_read_keys_cannot_change_endpoints(api: Api, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    r = await api.post(
        "/v1/api-keys", json={"name": "ro", "scopes": ["read"]}, headers=tenant.headers
    )
    reader = {"Authorization": f"Bearer {r.json()['secret']}"}
    r = await api.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/"}, headers=reader)
    assert r.status_code == 403
    r = await api.get("/v1/webhook-endpoints", headers=reader)
    assert r.status_code == 200
    r = await api.get("/v1/webhook-endpoints")
    assert r.status_code == 401


async def test_the_test_event_is_sent_now_and_returned_with_its_attempt(
    api: Api, make_tenant: MakeTenant, listener: Any
) -> None:
    tenant = await make_tenant()
    receiver = listener()
    created = await create_endpoint(api, tenant, receiver.url)
    receiver.secrets = [created["secret"]]
    r = await api.post(f"/v1/webhook-endpoints/{created['id']}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    delivery = r.json()
    assert delivery["status"] == "succeeded" and delivery["event_type"] == "webhook.test"
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 204 and attempt["duration_ms"] > 0
    (got,) = receiver.verified()
    assert got.webhook_id == delivery["id"]
    assert got.event is not None and got.event["data"]["endpoint_id"] == created["id"]
    assert delivery["payload"] == got.event

    # A disabled endpoint is not tested; a delivery can be replayed with the same webhook-id.
    r = await api.post(f"/v1/webhook-deliveries/{delivery['id']}/replay", headers=tenant.headers)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    await api.patch(
        f"/v1/webhook-endpoints/{created['id']}", json={"enabled": False}, headers=tenant.headers
    )
    r = await api.post(f"/v1/webhook-endpoints/{created['id']}/test", headers=tenant.headers)
    assert r.status_code == 409


async def test_delivery_filters(
    api: Api, db: Database, make_page: MakePage, listener: Any, run_worker: RunWorker
) -> None:
    page = await make_page()
    receiver = listener(
        respond=lambda r: (
            (200, {}, b"") if r.event and r.event["type"] == "scan.completed" else (400, {}, b"no")
        )
    )
    created = await create_endpoint(api, page.tenant, receiver.url)
    receiver.secrets = [created["secret"]]
    await emit_all(db, page, [EventType("scan.completed"), EventType("scan.failed")])
    await run_worker(dataclasses.replace(FAST, schedule=(0,)))
    h = page.tenant.headers
    r = await api.get("/v1/webhook-deliveries", params={"status": "failed"}, headers=h)
    assert [d["event_type"] for d in r.json()["items"]] == ["scan.failed"]
    assert r.json()["items"][0]["last_status_code"] == 400
    r = await api.get("/v1/webhook-deliveries", params={"event_type": "scan.completed"}, headers=h)
    assert [d["status"] for d in r.json()["items"]] == ["succeeded"]
    r = await api.get("/v1/webhook-deliveries", params={"since": "2999-01-01T00:00:00Z"}, headers=h)
    assert r.json()["items"] == []
    r = await api.get("/v1/webhook-deliveries", params={"status": "exploded"}, headers=h)
    assert r.status_code == 400
    r = await api.post(
        f"/v1/webhook-endpoints/{created['id']}/replay", json={"since": "yesterday"}, headers=h
    )
    assert r.status_code in {400, 422}
