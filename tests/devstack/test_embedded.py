"""The embedded servers `wallguard dev` falls back on, started for real."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import redis.asyncio as redis

from service.devstack.embedded import postgres_data_dir, start_postgres, start_redis
from tests.devstack.processes import gone, postmaster_pid, processes_mentioning


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_postgres_starts_keeps_its_data_and_stops(state_dir: Path) -> None:
    data_dir = postgres_data_dir(state_dir)
    first = start_postgres(state_dir)
    try:
        pid = postmaster_pid(data_dir)
        connection = await asyncpg.connect(_dsn(first.url))
        try:
            assert await connection.fetchval("SELECT current_database()") == "wallguard"
            await connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        finally:
            await connection.close()
    finally:
        first.stop()
    assert gone(pid)
    assert not processes_mentioning(data_dir)

    # The next run reuses the initialised data directory.
    second = start_postgres(state_dir)
    try:
        connection = await asyncpg.connect(_dsn(second.url))
        try:
            assert await connection.fetchval("SELECT n FROM kept") == 7
        finally:
            await connection.close()
        pid = postmaster_pid(data_dir)
    finally:
        second.stop()
        second.stop()  # idempotent
    assert gone(pid)
    assert not processes_mentioning(data_dir)


async def test_postgres_left_running_by_a_killed_run_is_replaced(state_dir: Path) -> None:
    data_dir = postgres_data_dir(state_dir)
    leftover = start_postgres(state_dir)  # never stopped by its owner, as after a SIGKILL
    leftover_pid = postmaster_pid(data_dir)
    try:
        current = start_postgres(state_dir)
        try:
            assert gone(leftover_pid)
            connection = await asyncpg.connect(_dsn(current.url))
            await connection.close()
        finally:
            current.stop()
    finally:
        leftover.stop()
    assert not processes_mentioning(data_dir)


async def test_redis_starts_keeps_nothing_and_stops(state_dir: Path) -> None:
    first = start_redis(state_dir)
    pid = int((state_dir / "valkey" / "valkey.pid").read_text())
    try:
        client = redis.Redis.from_url(first.url)
        try:
            assert await client.ping()
            await client.set("wallguard:dev:probe", "1")
        finally:
            await client.aclose()
    finally:
        first.stop()
    assert gone(pid)

    second = start_redis(state_dir)
    pid = int((state_dir / "valkey" / "valkey.pid").read_text())
    try:
        client = redis.Redis.from_url(second.url)
        try:
            assert await client.get("wallguard:dev:probe") is None
        finally:
            await client.aclose()
    finally:
        second.stop()
    assert gone(pid)
