"""A connection's drain job is sent once per window however many deliveries arrive in it, runs
after the window ends, and a send that finds the window's run already started goes to the next
window's run (real Redis, a queue of the test's own; the clock is held inside one window)."""

from __future__ import annotations

import datetime as dt
import uuid

import time_machine
from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.jobs import deserialize_job

from service import queue as jobs
from service.queue import INBOX_DRAIN_WINDOW, JobName, Queue
from tests.conftest import REDIS_URL

# The start of a window, far from its end: every send below falls in it.
WINDOW_START = dt.datetime(2026, 12, 2, 12, 0, 0, tzinfo=dt.UTC)


async def _queued(queue: Queue) -> list[tuple[str, float]]:
    return [
        (job_id.decode(), score)
        for job_id, score in await queue.redis.zrange(queue.queue_name, 0, -1, withscores=True)
    ]


async def test_sends_in_one_window_make_one_run_at_its_end() -> None:
    queue = await Queue.connect(REDIS_URL, f"wallguard:test:{uuid.uuid4().hex}")
    tenant, connection, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        with time_machine.travel(WINDOW_START, tick=False):
            number = int(WINDOW_START.timestamp() / INBOX_DRAIN_WINDOW)
            sent = await queue.send([jobs.drain_inbox(tenant, connection) for _ in range(5)])
            assert sent == 5  # every send is honoured: by one run
            await queue.send([jobs.drain_inbox(tenant, other)])
            queued = dict(await _queued(queue))
            assert set(queued) == {f"drain:{connection}:{number}", f"drain:{other}:{number}"}
            # It runs after the window's end, when every commit of the window is visible.
            window_end_ms = (number + 1) * INBOX_DRAIN_WINDOW * 1000
            assert window_end_ms < queued[f"drain:{connection}:{number}"] < window_end_ms + 50
            raw = await queue.redis.get(job_key_prefix + f"drain:{connection}:{number}")
            assert raw is not None
            job = deserialize_job(raw)
            assert job.function == JobName.DRAIN_INBOX.value
            assert job.args == (str(tenant), str(connection))

            # A worker started this window's run: it may have looked before a new commit, so
            # the next send goes to the next window's run.
            await queue.redis.set(
                in_progress_key_prefix + f"drain:{connection}:{number}", b"1", px=60_000
            )
            await queue.send([jobs.drain_inbox(tenant, connection)])
            assert f"drain:{connection}:{number + 1}" in dict(await _queued(queue))
    finally:
        keys = [k async for k in queue.redis.scan_iter(match="arq:*drain:*")]
        for key in keys:
            await queue.redis.delete(key)
        await queue.redis.delete(queue.queue_name)
        await queue.close()


async def test_a_drain_survives_redis_forgetting_its_script() -> None:
    queue = await Queue.connect(REDIS_URL, f"wallguard:test:{uuid.uuid4().hex}")
    try:
        await queue.redis.script_flush()  # what a Redis restart does to loaded scripts
        assert await queue.send([jobs.drain_inbox(uuid.uuid4(), uuid.uuid4())]) == 1
        assert len(await _queued(queue)) == 1
    finally:
        await queue.redis.delete(queue.queue_name)
        await queue.close()
