from __future__ import annotations

from typing import Any

from arq.jobs import Job
from arq.worker import Worker

from service.queue import JobName, Queue
from service.settings import Settings
from service.workers.main import worker_settings


async def test_worker_runs_a_job_against_postgres(settings: Settings, queue: Queue) -> None:
    ws: Any = worker_settings(settings)
    job = await queue.redis.enqueue_job(
        JobName.CHECK_DATABASE.value, _queue_name=settings.queue_name
    )
    assert job is not None
    worker = Worker(
        functions=ws.functions,
        queue_name=ws.queue_name,
        redis_settings=ws.redis_settings,
        on_startup=ws.on_startup,
        on_shutdown=ws.on_shutdown,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
    result = await Job(job.job_id, queue.redis, _queue_name=settings.queue_name).result(timeout=5)
    assert result is True
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
