from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from tests.conftest import MakeTenant, make_settings
from tests.helpers import free_port


async def test_health_ready_metrics(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": True, "redis": True}
    t = await make_tenant()
    await client.get("/v1/tenant", headers=t.headers)
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "wallguard_requests_total" in metrics.text
    assert t.api_key not in metrics.text


async def test_request_id_is_echoed_or_made(client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"
    assert len(r.headers["x-request-id"]) == 32
    r = await client.get("/v1/tenant")
    assert r.json()["request_id"] == r.headers["x-request-id"]


async def test_request_id_header_is_sent_once(
    client: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    for path in ("/v1/tenant", "/v1/clients/00000000-0000-0000-0000-000000000000"):
        r = await client.get(path, headers=t.headers)
        assert len(r.headers.get_list("x-request-id")) == 1


async def test_the_api_starts_without_its_database_and_says_so(database_url: str) -> None:
    # Nothing listens there: the start-up warm-up must not stop the API from serving /health.
    down = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{free_port()}")
    async with AsyncTestClient(app=create_app(make_settings(down))) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["database"] is False
