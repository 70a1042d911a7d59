"""A job whose worker died keeps arq's claim ("in progress") until it expires; ``Queue.resend``
releases it when the caller knows nobody works on the job's row, and only when the claim is
older than the lease (real Redis, a queue of the test's own)."""

from __future__ import annotations

import time
import uuid

from arq.constants import in_progress_key_prefix, job_key_prefix

from service import queue as jobs
from service.queue import Queue
from tests.conftest import REDIS_URL


async def test_a_stale_claim_is_released_and_a_fresh_one_is_kept() -> None:
    queue = await Queue.connect(REDIS_URL, f"wallguard:test:{uuid.uuid4().hex}")
    stale = jobs.execute_action(uuid.uuid4(), uuid.uuid4())
    fresh = jobs.execute_action(uuid.uuid4(), uuid.uuid4())
    try:
        assert await queue.send([stale, fresh]) == 2
        now_ms = int(time.time() * 1000)
        for job, started in ((stale, now_ms - 20_000), (fresh, now_ms - 5_000)):
            assert job.job_id is not None
            # What ResilientWorker writes when it starts a job: the claim, stamped.
            await queue.redis.psetex(
                in_progress_key_prefix + job.job_id, 70_000, str(started).encode()
            )

        assert await queue.resend(stale, claimed_longer_than=15) == 1
        assert await queue.resend(fresh, claimed_longer_than=15) == 0
        # Without the caller's word that the row is free, a claim is never touched.
        assert await queue.resend(fresh) == 0

        assert stale.job_id is not None and fresh.job_id is not None
        assert not await queue.redis.exists(in_progress_key_prefix + stale.job_id)
        assert await queue.redis.exists(in_progress_key_prefix + fresh.job_id)
        # Still queued: the next worker that polls starts it again.
        assert await queue.redis.zscore(queue.queue_name, stale.job_id) is not None
    finally:
        ids = [j.job_id for j in (stale, fresh) if j.job_id]
        await queue.redis.delete(
            queue.queue_name,
            *(in_progress_key_prefix + i for i in ids),
            *(job_key_prefix + i for i in ids),
        )
        await queue.close()
