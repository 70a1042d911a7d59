"""`wallguard dev` end to end: a real subprocess on embedded servers, stopped with Ctrl-C."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import redis.asyncio as redis

from service.devstack.embedded import free_port, postgres_data_dir
from service.devstack.run import SANDBOX_MODULE, SKIP_SANDBOX_ENV
from tests.devstack.processes import gone, processes_mentioning, remove_private_dirs
from tests.devstack.stack import (
    SANDBOX_MISSING,
    WITHOUT_SANDBOX,
    DevStack,
    check_the_demo_works,
    dev_stack_running,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    state_dir = tmp_path_factory.mktemp("dev") / "state"
    try:
        with dev_stack_running(state_dir, free_port(), free_port()) as stack:
            yield stack
    finally:
        remove_private_dirs(state_dir)


def test_the_printed_demo_key_works(dev_stack: DevStack) -> None:
    response = httpx.get(
        f"{dev_stack.api_url}/v1/tenant", headers={"Authorization": f"Bearer {dev_stack.api_key}"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Demo Telecom"
    assert (dev_stack.state_dir / "demo.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(
    WITHOUT_SANDBOX,
    reason=f"{SANDBOX_MODULE} does not exist yet"
    if SANDBOX_MISSING
    else f"{SKIP_SANDBOX_ENV} is set",
)
def test_the_sandbox_answers(dev_stack: DevStack) -> None:
    # The control API lists the seeded demo pages.
    response = httpx.get(f"{dev_stack.sandbox_url}/_sandbox/pages")
    assert response.status_code == 200
    assert response.json()


@pytest.mark.skipif(WITHOUT_SANDBOX, reason="needs the sandbox")
def test_the_demo_pages_exposing_comments_are_hidden_and_listed_the_rest_untouched(
    dev_stack: DevStack,
) -> None:
    check_the_demo_works(dev_stack)


async def test_the_banner_says_how_to_point_the_cli_at_the_stack(dev_stack: DevStack) -> None:
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in dev_stack.output
        if line.strip().startswith("export ")
    )
    assert set(exports) == {"DATABASE_URL", "REDIS_URL", "WALLGUARD_API_URL", "WALLGUARD_API_KEY"}
    assert exports["WALLGUARD_API_URL"] == dev_stack.api_url
    assert exports["WALLGUARD_API_KEY"] == dev_stack.api_key
    # Both URLs reach the running embedded servers.
    dsn = exports["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await connection.close()
    client = redis.Redis.from_url(exports["REDIS_URL"])
    try:
        assert await client.ping()
    finally:
        await client.aclose()


def test_ctrl_c_stops_everything_it_started(dev_stack: DevStack) -> None:
    assert dev_stack.stop() == 0
    assert dev_stack.pids
    assert [pid for pid in dev_stack.pids if not gone(pid)] == []
    data_dir = postgres_data_dir(dev_stack.state_dir)
    assert processes_mentioning(dev_stack.state_dir, data_dir) == []
