"""A database connection lost under the API (Postgres restarted, a failover): the request that
meets it is answered 503 with Retry-After, not 500, and the next one works on a new connection.
The pool does not ping every connection it hands out (service/db.py), so this is the path."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.settings import Settings
from tests.conftest import MakeTenant


def _dsn(settings: Settings) -> str:
    return settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_a_lost_database_connection_is_a_503_and_the_next_request_works(
    settings: Settings, make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    admin = await asyncpg.connect(_dsn(settings))
    try:
        started = await admin.fetchval("SELECT now()")
        async with AsyncTestClient(app=create_app(settings)) as api:
            assert (await api.get("/v1/clients", headers=t.headers)).status_code == 200
            # Every connection this app opened is terminated by the server.
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = 'wallguard'"
                " AND backend_start >= $1 AND pid <> pg_backend_pid()",
                started,
            )
            assert killed >= 1

            lost = await api.get("/v1/clients", headers=t.headers)
            assert lost.status_code == 503, lost.text
            assert lost.headers["content-type"].startswith("application/problem+json")
            assert lost.headers["retry-after"] == "1"
            assert "connection was lost" in lost.json()["detail"]

            again = await api.get("/v1/clients", headers=t.headers)
            assert again.status_code == 200, again.text
    finally:
        await admin.close()
