"""A worker process for the crash test: `python -m tests.scans.worker_main`.

The real worker's settings (service/workers/main.py) with the scan job and the pipeline's
context, configured from the environment like `wallguard worker`."""

from __future__ import annotations

from typing import Any, ClassVar

from arq.worker import Function, func, run_worker

from service.settings import Settings
from service.workers.main import worker_settings
from service.workers.pipeline_context import pipeline_shutdown, pipeline_startup
from service.workers.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES, run_scan


def main() -> None:
    base: Any = worker_settings(Settings.from_env())

    async def startup(ctx: dict[str, Any]) -> None:
        await base.on_startup(ctx)
        await pipeline_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await pipeline_shutdown(ctx)
        await base.on_shutdown(ctx)

    class ScanWorker(base):  # type: ignore[misc, valid-type]
        functions: ClassVar[list[Function]] = [
            func(run_scan, name="run_scan", timeout=SCAN_JOB_TIMEOUT, max_tries=SCAN_MAX_TRIES)
        ]
        cron_jobs: ClassVar[list[Any]] = []
        on_startup = staticmethod(startup)
        on_shutdown = staticmethod(shutdown)

    run_worker(ScanWorker)


if __name__ == "__main__":
    main()
