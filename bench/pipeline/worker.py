"""`python -m bench.pipeline.worker`: the worker `wallguard worker` runs, plus the pipeline's
context and the scan job if service/workers/main.py does not register them (yet)."""

from __future__ import annotations

from typing import Any

from service import queue
from service.pipeline.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES
from service.queue import JobName, run_worker
from service.settings import get_settings
from service.workers.jobs import CONTEXT_KEY, run_scan
from service.workers.main import pipeline_shutdown, pipeline_startup, worker_settings


def main() -> None:
    base: Any = worker_settings(get_settings())

    async def startup(ctx: dict[str, Any]) -> None:
        await base.on_startup(ctx)
        if CONTEXT_KEY not in ctx:
            await pipeline_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await pipeline_shutdown(ctx)
        await base.on_shutdown(ctx)

    functions = list(base.functions)
    if not any(f.name == JobName.RUN_SCAN.value for f in functions):
        functions.append(
            queue.job_function(
                JobName.RUN_SCAN, run_scan, timeout=SCAN_JOB_TIMEOUT, max_tries=SCAN_MAX_TRIES
            )
        )
    # arq reads a settings class's own __dict__ only: pass a dict.
    options = {k: v for k, v in vars(base).items() if not k.startswith("_")}
    options.update(functions=functions, on_startup=startup, on_shutdown=shutdown)
    run_worker(options)


if __name__ == "__main__":
    main()
