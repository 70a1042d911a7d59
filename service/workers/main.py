"""The arq worker: `wallguard worker` runs ``worker_settings()``.

Startup builds what every job shares (settings, database, queue and the pipeline context) and
puts it in arq's ctx; the jobs themselves are in service/workers/jobs.py.
"""

from __future__ import annotations

from typing import Any

from service.db import Database
from service.logging import configure_logging
from service.pipeline.context import PipelineConfig, PipelineContext, warm_up
from service.queue import Queue, worker_class
from service.settings import Settings, get_settings
from service.workers import jobs
from service.workers.jobs import CONTEXT_KEY
from service.workers.webhooks_context import webhooks_shutdown, webhooks_startup


async def pipeline_startup(ctx: dict[str, Any]) -> None:
    """Build the pipeline context once ``settings``, ``db`` and ``queue`` are in ``ctx``.
    Tests may put a ready ``pipeline_graph`` (GraphClient) or ``pipeline_config`` there first."""
    settings: Settings = ctx["settings"]
    ctx[CONTEXT_KEY] = PipelineContext.create(
        settings,
        ctx["db"],
        ctx["queue"],
        graph=ctx.get("pipeline_graph"),
        config=ctx.get("pipeline_config") or PipelineConfig.from_settings(settings),
    )
    await warm_up(ctx[CONTEXT_KEY])


async def pipeline_shutdown(ctx: dict[str, Any]) -> None:
    pctx: PipelineContext | None = ctx.pop(CONTEXT_KEY, None)
    if pctx is not None:
        await pctx.close()


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    queue = Queue(ctx["redis"], settings.queue_name)
    ctx["settings"] = settings
    ctx["queue"] = queue
    ctx["db"] = Database(settings, queue)
    await pipeline_startup(ctx)
    await webhooks_startup(ctx)
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port)


async def shutdown(ctx: dict[str, Any]) -> None:
    await webhooks_shutdown(ctx)
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

    return worker_class(
        functions=jobs.FUNCTIONS,
        cron_jobs=jobs.CRON_JOBS,
        redis_url=resolved.redis_url,
        queue_name=resolved.queue_name,
        on_startup=_startup,
        on_shutdown=shutdown,
        poll_delay=resolved.worker_poll_delay,
        max_jobs=resolved.worker_max_jobs,
    )
