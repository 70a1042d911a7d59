"""Per-API-key rate limits: counted in the shared Redis, 429 problem with the IETF headers,
other keys unaffected, public routes unlimited, and the API keeps answering when Redis is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.settings import Settings
from tests.conftest import MakeTenant, make_settings
from tests.helpers import free_port

PROBLEM = "application/problem+json"


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # A burst of 3 a second is low enough that the test's own pace cannot stay under it.
    settings = make_settings(
        database_url,
        WALLGUARD_RATE_LIMIT_PER_SECOND="3",
        WALLGUARD_RATE_LIMIT_PER_MINUTE="1000",
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_over_the_limit_is_a_429_problem_with_rate_limit_headers(
    limited: AsyncTestClient[Litestar], make_tenant: MakeTenant
) -> None:
    t, other = await make_tenant(), await make_tenant()
    first = await limited.get("/v1/tenant", headers=t.headers)
    assert first.status_code == 200
    assert first.headers["ratelimit-policy"] == "3;w=1, 1000;w=60"
    assert first.headers["ratelimit-limit"] == "3"
    assert first.headers["ratelimit-remaining"] == "2"
    assert int(first.headers["ratelimit-reset"]) >= 1
    statuses = [(await limited.get("/v1/tenant", headers=t.headers)).status_code for _ in range(5)]
    # Moving windows: within one second at most 3 pass; the run takes well under 5 seconds, so
    # at least one of the six is refused however slow the machine is.
    assert 429 in statuses
    refused = await limited.get("/v1/tenant", headers=t.headers)
    if refused.status_code == 429:
        assert refused.headers["content-type"].startswith(PROBLEM)
        body = refused.json()
        assert body["type"].endswith("/rate-limited") and body["status"] == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["ratelimit-remaining"] == "0"
        assert body["request_id"] == refused.headers["x-request-id"]
    # Another key (another tenant) has its own count.
    assert (await limited.get("/v1/tenant", headers=other.headers)).status_code == 200


async def test_public_routes_and_missing_keys_are_not_counted(
    limited: AsyncTestClient[Litestar],
) -> None:
    for _ in range(8):
        r = await limited.get("/health")
        assert r.status_code == 200 and "ratelimit-limit" not in r.headers
    for _ in range(8):
        assert (await limited.get("/v1/tenant")).status_code == 401


async def test_redis_down_fails_open(database_url: str, make_tenant: MakeTenant) -> None:
    # Nothing listens on this port: every rate-limit call fails to connect.
    settings: Settings = make_settings(
        database_url,
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        WALLGUARD_RATE_LIMIT_PER_SECOND="1",
    )
    t = await make_tenant()
    async with AsyncTestClient(app=create_app(settings)) as client:
        for _ in range(4):
            r = await client.get("/v1/tenant", headers=t.headers)
            assert r.status_code == 200, r.text
            assert "ratelimit-limit" not in r.headers
