"""A worker process for the crash test: `python -m tests.scanning.worker_main`.

The real worker's settings (service/workers/main.py) with the scan job and the pipeline's
context, configured from the environment like `wallguard worker`."""

from __future__ import annotations

from typing import Any

from arq.worker import func, run_worker

from service.pipeline.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES
from service.queue import JobName
from service.settings import Settings
from service.workers.jobs import run_scan
from service.workers.main import pipeline_shutdown, pipeline_startup, worker_settings


def main() -> None:
    base: Any = worker_settings(Settings.from_env())

    async def startup(ctx: dict[str, Any]) -> None:
        await base.on_startup(ctx)
        await pipeline_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await pipeline_shutdown(ctx)
        await base.on_shutdown(ctx)

    # arq reads a settings class's own __dict__ only: pass a dict, not a subclass.
    options = {k: v for k, v in vars(base).items() if not k.startswith("_")}
    options.update(
        functions=[
            func(
                run_scan,
                name=JobName.RUN_SCAN.value,
                timeout=SCAN_JOB_TIMEOUT,
                max_tries=SCAN_MAX_TRIES,
            )
        ],
        cron_jobs=[],
        on_startup=startup,
        on_shutdown=shutdown,
    )
    run_worker(options)


if __name__ == "__main__":
    main()
