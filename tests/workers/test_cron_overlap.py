"""A cron tick that finds the previous tick of the same cron still running returns at once
(``queue.one_at_a_time``), against real Redis; the next tick after it runs again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from service.queue import JobName, Queue, one_at_a_time
from tests.conftest import REDIS_URL


async def test_a_tick_skips_while_the_previous_one_runs() -> None:
    queue = await Queue.connect(REDIS_URL, f"wallguard:test:{uuid.uuid4().hex}")
    started = asyncio.Event()
    release = asyncio.Event()
    runs: list[str] = []

    async def tracker(ctx: dict[str, Any]) -> str:
        runs.append(ctx["job_id"])
        started.set()
        await release.wait()
        return str(ctx["job_id"])

    tick = one_at_a_time(JobName.TRACK_RESPONSES, tracker, timeout=30)

    def ctx(job_id: str) -> dict[str, Any]:
        return {"redis": queue.redis, "queue_name": queue.queue_name, "job_id": job_id}

    try:
        first = asyncio.create_task(tick(ctx("tick-1")))
        await started.wait()
        # The next tick, on another worker, while the first still runs: nothing done.
        assert await asyncio.wait_for(tick(ctx("tick-2")), 5) is None
        # Another cron is not held back by this one.
        other = one_at_a_time(JobName.WATCH_STORMS, _returns_done, timeout=30)
        assert await other(ctx("storm-1")) == "done"
        release.set()
        assert await first == "tick-1"
        # The mark went with the first tick: the next one runs.
        release.clear()
        third = asyncio.create_task(tick(ctx("tick-3")))
        release.set()
        assert await third == "tick-3"
        assert runs == ["tick-1", "tick-3"]
        assert await queue.redis.keys(f"{queue.queue_name}:cron-running:*") == []
    finally:
        await queue.close()


async def test_a_tick_that_fails_leaves_no_mark() -> None:
    queue = await Queue.connect(REDIS_URL, f"wallguard:test:{uuid.uuid4().hex}")

    async def broken(ctx: dict[str, Any]) -> None:
        raise RuntimeError("database gone")

    tick = one_at_a_time(JobName.TRACK_RESPONSES, broken, timeout=30)
    ctx = {"redis": queue.redis, "queue_name": queue.queue_name, "job_id": "tick-1"}
    try:
        with pytest.raises(RuntimeError):  # the tick's error still reaches arq
            await tick(ctx)
        assert await queue.redis.keys(f"{queue.queue_name}:cron-running:*") == []
    finally:
        await queue.close()


async def _returns_done(ctx: dict[str, Any]) -> str:
    return "done"
