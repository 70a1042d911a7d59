"""The registry of job functions and cron jobs the worker runs."""

from __future__ import annotations

from typing import Any

from arq.cron import CronJob, cron
from arq.worker import Function, func
from sqlalchemy import text

from service.workers import realtime
from service.workers.context import context_of
from service.workers.scans import SCAN_JOB_TIMEOUT, SCAN_MAX_TRIES, reconcile_scans, run_scan


async def check_database(ctx: dict[str, Any]) -> bool:
    """A liveness probe through the queue: proves a worker can reach Postgres."""
    db = context_of(ctx)["db"]
    async with db.system_unit_of_work() as uow:
        await uow.session.execute(text("SELECT 1"))
    return True


FUNCTIONS: list[Function] = [
    func(check_database, name="check_database", max_tries=1),
    *realtime.FUNCTIONS,
    func(run_scan, name="run_scan", timeout=SCAN_JOB_TIMEOUT, max_tries=SCAN_MAX_TRIES),
]
CRON_JOBS: list[CronJob] = [
    *realtime.CRON_JOBS,
    cron(reconcile_scans, name="reconcile_scans", second=45, timeout=60),
]
