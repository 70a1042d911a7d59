"""`wallguard worker`: the job worker."""

from __future__ import annotations


def worker() -> None:
    """Run the arq worker (scans, hides, replies, webhook deliveries, retention)."""
    from service.queue import run_worker
    from service.workers.main import worker_settings

    run_worker(worker_settings())
