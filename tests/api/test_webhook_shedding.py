"""Meta's webhook under overload: when every database connection is taken, the answer is a
prompt 503 with Retry-After (Meta delivers again later), not a wait for the pool."""

from __future__ import annotations

import asyncio

import msgspec
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.api.deps import services_of
from service.platforms.signatures import sign_body
from tests.conftest import make_settings


async def test_an_exhausted_pool_answers_503_at_once_then_recovers(database_url: str) -> None:
    settings = make_settings(
        database_url, WALLGUARD_DB_POOL_SIZE="1", META_APP_SECRET="shed-secret"
    )
    body = msgspec.json.encode({"object": "page", "entry": []})
    headers = {"x-hub-signature-256": sign_body("shed-secret", body)}
    async with AsyncTestClient(app=create_app(settings)) as client:
        db = services_of(client.app.state).db
        held = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with db.admitted(1.0):
                held.set()
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]  # pool size + overflow
        await held.wait()
        await asyncio.sleep(0)
        try:
            response = await client.post("/webhooks/meta", content=body, headers=headers)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "2"
            assert response.headers["content-type"].startswith("application/problem+json")
        finally:
            release.set()
            await asyncio.gather(*holders)
        response = await client.post("/webhooks/meta", content=body, headers=headers)
        assert response.status_code == 200
