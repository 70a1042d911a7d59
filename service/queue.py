"""The job queue, kept behind this one module.

Redis only carries messages; Postgres is the record. Domain code never talks to arq: it adds
``Job``s to the unit of work's ``PendingJobs`` and they are sent after the commit (and dropped on
rollback). If Redis is down at that moment the rows are still ``pending`` in Postgres and the
reconcile cron sends them again, so nothing is lost. arq is in maintenance-only mode upstream, so
this is also the one place to change should the queue be swapped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec
import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import result_key_prefix
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus

log = structlog.get_logger(__name__)

# Job arguments are ids and small scalars only: never personal data, never tokens.
JobArg = str | int | float | bool | None


class Job(msgspec.Struct, frozen=True):
    function: str
    args: tuple[JobArg, ...] = ()
    # A stable id makes arq drop a duplicate while the first is queued or its result is kept.
    job_id: str | None = None
    defer_by: float | None = None


class PendingJobs:
    def __init__(self) -> None:
        self._jobs: list[Job] = []

    def add(
        self, function: str, *args: JobArg, job_id: str | None = None, defer_by: float | None = None
    ) -> None:
        self._jobs.append(Job(function, tuple(args), job_id, defer_by))

    def clear(self) -> None:
        self._jobs.clear()

    def truncate(self, length: int) -> None:
        del self._jobs[length:]

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 1
    return settings


class Queue:
    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    @classmethod
    async def connect(cls, url: str, queue_name: str) -> Queue:
        return cls(
            await create_pool(redis_settings(url), default_queue_name=queue_name), queue_name
        )

    async def close(self) -> None:
        await self.redis.aclose()

    async def send(self, jobs: PendingJobs | list[Job]) -> int:
        """Send jobs; returns how many were accepted. Failures are logged, never raised: the
        caller's transaction has committed and the reconcile cron will resend from Postgres."""
        sent = 0
        for job in jobs:
            try:
                defer = dt.timedelta(seconds=job.defer_by) if job.defer_by else None
                await self.redis.enqueue_job(
                    job.function,
                    *job.args,
                    _job_id=job.job_id,
                    _queue_name=self.queue_name,
                    _defer_by=defer,
                )
                sent += 1
            except Exception as exc:  # Redis down or restarting: Postgres keeps the work.
                log.warning(
                    "job_enqueue_failed",
                    function=job.function,
                    job_id=job.job_id,
                    error=type(exc).__name__,
                )
        return sent

    async def resend(self, job: Job) -> int:
        """Send ``job`` again unless arq already holds it queued, deferred or running (the
        reconcile cron's way to recover work lost with Redis or a killed worker). A finished
        job's kept result would make arq drop the new one as a duplicate: it is removed first."""
        if job.job_id is None:
            return await self.send([job])
        status = await ArqJob(job.job_id, self.redis, _queue_name=self.queue_name).status()
        if status in {JobStatus.queued, JobStatus.deferred, JobStatus.in_progress}:
            return 0
        if status is JobStatus.complete:
            await self.redis.delete(result_key_prefix + job.job_id)
        return await self.send([job])

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False
