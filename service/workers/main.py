"""The arq worker: `wallguard worker` runs ``WorkerSettings``."""

from __future__ import annotations

from typing import Any, ClassVar

from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob
from arq.worker import Function

from service.db import Database
from service.logging import configure_logging
from service.queue import Queue, redis_settings
from service.settings import Settings, get_settings
from service.workers import jobs
from service.workers.pipeline_context import pipeline_shutdown, pipeline_startup


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    redis: ArqRedis = ctx["redis"]
    queue = Queue(redis, settings.queue_name)
    ctx["settings"] = settings
    ctx["queue"] = queue
    ctx["db"] = Database(settings, queue)
    await pipeline_startup(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    await pipeline_shutdown(ctx)
    db: Database | None = ctx.get("db")
    if db is not None:
        await db.dispose()


def worker_settings(settings: Settings | None = None) -> type:
    """A WorkerSettings class bound to these settings (tests run workers on their own Redis)."""
    resolved: Settings = settings or get_settings()
    configure_logging(resolved.log_level, resolved.log_json)

    async def _startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = resolved
        await startup(ctx)

    class WorkerSettings:
        functions: ClassVar[list[Function]] = jobs.FUNCTIONS
        cron_jobs: ClassVar[list[CronJob]] = jobs.CRON_JOBS
        redis_settings: ClassVar[RedisSettings] = redis_settings(resolved.redis_url)
        queue_name: ClassVar[str] = resolved.queue_name
        on_startup = staticmethod(_startup)
        on_shutdown = staticmethod(shutdown)
        # arq polls Redis; its 0.5 s default would put a floor under time-to-hide.
        poll_delay: ClassVar[float] = resolved.worker_poll_delay
        max_jobs: ClassVar[int] = resolved.worker_max_jobs
        job_timeout: ClassVar[int] = 300
        max_tries: ClassVar[int] = 5
        keep_result: ClassVar[int] = 3600
        health_check_interval: ClassVar[int] = 30

    return WorkerSettings
