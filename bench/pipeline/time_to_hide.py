"""Benchmark: real-time time to hide, with real processes.

    .venv/bin/python -m bench.pipeline.time_to_hide [--rate 50] [--seconds 60] [--personal 0.2]
                                                    [--workers 1] [--webhook-batch 5]

The API (`wallguard serve`), ``workers`` worker processes (`python -m bench.pipeline.worker`:
`wallguard worker` with the pipeline registered) and the sandbox (`python -m service.sandbox`,
webhook delay 0) run as separate processes on a fresh database. The app's webhook is registered
with the sandbox and the page subscribed, as OAuth does. Then customers comment on a post at a
sustained ``rate`` per second for ``seconds``, ``personal`` of them with personal data (the
seed's generator, Danish), posted a 20 ms tick at a time (``bench/pipeline/generator.py``).

Time to hide, per comment the pipeline hid: from the webhook's arrival at the API (the inbox
event's received_at) to the sandbox logging the successful ``is_hidden=true`` call (``p50_ms``
...), and from the comment's creation on the platform, what the commenter sees
(``from_created_*``). ``achieved_rate`` is the rate the sandbox really took comments at;
``cpu_*_s`` the CPU each process (Postgres: the run database's backends) used from the first
comment to the end of the drain.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import httpx

from bench.pipeline.common import (
    ADMIN_DSN,
    APP_ID,
    APP_SECRET,
    REDIS_URL,
    VERIFY_TOKEN,
    Sandbox,
    drop_database,
    free_port,
    fresh_database,
    print_result,
    tenant_with_page,
)
from bench.pipeline.cpu import CpuMeter, backend_pids
from bench.pipeline.generator import generate, plan
from service.db import Database
from service.logging import configure_logging
from service.platforms.graph import GraphClient
from service.queue import Queue
from service.sandbox.config import SandboxConfig
from service.settings import Settings

# Changes per webhook POST: the sandbox's default, Meta's batching when it is not under load
# (bench/README.md says why the benchmark keeps it).
DEFAULT_WEBHOOK_BATCH = SandboxConfig().webhook_max_batch


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def bench(
    rate: float,
    seconds: float,
    personal: float,
    workers: int = 1,
    webhook_batch: int = DEFAULT_WEBHOOK_BATCH,
    webhook_connections: int | None = None,
    drain_seconds: float = 120.0,
) -> dict[str, Any]:
    name = f"wallguard_bench_tth_{os.getpid()}"
    database_url = await fresh_database(name)
    sandbox = Sandbox(webhook_connections=webhook_connections)
    api_port = free_port()
    queue_name = f"wallguard:bench:{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "WALLGUARD_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "WALLGUARD_QUEUE_NAME": queue_name,
        "WALLGUARD_LOG_LEVEL": "WARNING",
        "META_APP_ID": APP_ID,
        "META_APP_SECRET": APP_SECRET,
        "META_WEBHOOK_VERIFY_TOKEN": VERIFY_TOKEN,
        "META_GRAPH_URL": sandbox.url,
        "WALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
    }
    api = _start(["service.cli", "serve", "--port", str(api_port)], env)
    worker_processes = [_start(["bench.pipeline.worker"], env) for _ in range(workers)]
    settings = Settings.from_env(env)
    configure_logging(settings.log_level, settings.log_json)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    db = Database(settings, queue)
    control = httpx.AsyncClient(
        base_url=sandbox.url, timeout=30, limits=httpx.Limits(max_connections=200)
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"http://127.0.0.1:{api_port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the API did not start")
        page_id = sandbox.first_page()
        await tenant_with_page(db, settings, sandbox, page_id)
        token = (await control.post(f"/_sandbox/pages/{page_id}/tokens")).json()["access_token"]
        async with GraphClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=sandbox.url) as g:
            callback = f"http://127.0.0.1:{api_port}/webhooks/meta"
            assert await g.subscribe_app_webhook(callback, VERIFY_TOKEN)
            assert await g.subscribe_page(page_id, token)
        await control.put(
            "/_sandbox/webhooks/settings",
            json={"delay_seconds": 0, "max_batch": webhook_batch},
        )
        post = (
            await control.post(f"/_sandbox/pages/{page_id}/posts", json={"message": "Nye priser"})
        ).json()

        planned = plan(post["id"], rate, seconds, personal)
        meter = CpuMeter()
        meter.start(
            {
                "sandbox": [sandbox.process.pid],
                "bench": [os.getpid()],
                "api": [api.pid],
                "workers": [w.pid for w in worker_processes],
                "postgres": await backend_pids(ADMIN_DSN, name),
            }
        )
        generated = await generate(control, planned)
        sent = {comment_id: c.personal for comment_id, c in generated.created.items()}
        created_at = {comment_id: c.created_at for comment_id, c in generated.created.items()}

        # The pipeline decides what is personal: wait until every comment's webhook has arrived
        # (under overload they wait in the sandbox, as at Meta) and every finding is hidden.
        admin = await asyncpg.connect(
            database_url.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            deadline = time.monotonic() + drain_seconds
            while time.monotonic() < deadline:
                arrived = await admin.fetchval(
                    "SELECT count(DISTINCT object_id) FROM inbox_events"
                    " WHERE item = 'comment' AND verb = 'add'"
                )
                pending = await admin.fetchval(
                    "SELECT count(*) FROM findings WHERE status = 'pending_hide'"
                )
                inbox = await admin.fetchval(
                    "SELECT count(*) FROM inbox_events WHERE status = 'pending'"
                )
                if arrived >= len(sent) and pending == 0 and inbox == 0:
                    break
                await asyncio.sleep(0.2)
            received = {
                r["object_id"]: r["received_at"].timestamp()
                for r in await admin.fetch(
                    "SELECT object_id, min(received_at) AS received_at FROM inbox_events"
                    " WHERE item = 'comment' AND verb = 'add' GROUP BY object_id"
                )
            }
            findings = {
                r["comment_id"]: r["source"]
                for r in await admin.fetch("SELECT comment_id, source::text FROM findings")
            }
        finally:
            await admin.close()
        meter.add("postgres", await backend_pids(ADMIN_DSN, name))
        cpu = {f"cpu_{group}_s": round(used, 2) for group, used in meter.stop().items()}
        deliveries = (await control.get("/_sandbox/webhooks/deliveries")).json()
        calls = (await control.get("/_sandbox/calls", params={"method": "POST"})).json()
        hidden_at: dict[str, float] = {}
        for call in calls:
            comment_id = call["path"].rsplit("/", 1)[-1]
            if call["status"] == 200 and call["params"].get("is_hidden") == "true":
                hidden_at.setdefault(comment_id, call["time"])
        # From the webhook's arrival, for the comments the real-time path (not polling) hid.
        latencies = [
            (hidden_at[c] - received[c]) * 1000
            for c, source in findings.items()
            if source == "realtime" and c in hidden_at and c in received
        ]
        # The same comments, from their creation on the platform: what the commenter sees.
        from_created = [
            (hidden_at[c] - created_at[c]) * 1000
            for c, source in findings.items()
            if source == "realtime" and c in hidden_at and c in received and c in created_at
        ]
        delivery = [(received[c] - created_at[c]) * 1000 for c in created_at if c in received]
        slowest = slowest_seconds(findings, created_at, received, hidden_at)
        hide_calls = collections.Counter(
            call["path"].rsplit("/", 1)[-1]
            for call in calls
            if call["params"].get("is_hidden") == "true"
        )
        return {
            "workers": workers,
            "rate": rate,
            "webhook_max_batch": webhook_batch,
            "webhook_connections": webhook_connections or SandboxConfig().webhook_max_connections,
            "comments_sent": len(sent),
            "comment_posts_failed": generated.failed,
            "sent_with_personal_data": sum(sent.values()),
            "load_seconds": round(generated.load_seconds, 1),
            "achieved_rate": round(generated.achieved_rate, 1),
            "generator_late_ticks": generated.late_ticks,
            "webhook_events": len(received),
            "webhook_deliveries": len(deliveries),
            "webhook_not_200": sum(1 for d in deliveries if d.get("status") != 200),
            "webhook_answers": dict(
                collections.Counter(str(d.get("status") or d.get("error")) for d in deliveries)
            ),
            "findings": len(findings),
            "found_by_polling": sum(1 for s in findings.values() if s == "poll"),
            "hidden_realtime": len(latencies),
            "max_hide_calls": max(hide_calls.values(), default=0),
            "delivery_p50_ms": round(percentile(delivery, 0.5), 1),
            "delivery_p99_ms": round(percentile(delivery, 0.99), 1),
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p90_ms": round(percentile(latencies, 0.9), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies, default=float("nan")), 1),
            "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
            "from_created_p50_ms": round(percentile(from_created, 0.5), 1),
            "from_created_p90_ms": round(percentile(from_created, 0.9), 1),
            "from_created_p99_ms": round(percentile(from_created, 0.99), 1),
            "from_created_max_ms": round(max(from_created, default=float("nan")), 1),
            "slowest_seconds": slowest,
            **cpu,
            # The measuring instrument (sandbox and generator) per comment sent.
            "instrument_cpu_ms_per_comment": round(
                (cpu["cpu_sandbox_s"] + cpu["cpu_bench_s"]) * 1000 / max(1, len(sent)), 2
            ),
        }
    finally:
        await control.aclose()
        await db.dispose()
        await queue.redis.delete(queue_name)
        await queue.close()
        for worker in worker_processes:
            _stop(worker)
        _stop(api)
        sandbox.stop()
        await drop_database(name)


def slowest_seconds(
    findings: dict[str, str],
    created_at: dict[str, float],
    received: dict[str, float],
    hidden_at: dict[str, float],
    most: int = 5,
) -> list[str]:
    """The seconds of the run (counted from the first comment's creation) whose comments waited
    longest from creation to hide: "second: worst from creation / its webhook's lag ms". Tells
    a steady tail from a periodic stall (a cron, a checkpoint) and the API's share from the
    delivery's."""
    if not created_at:
        return []
    start = min(created_at.values())
    worst: dict[int, tuple[float, float]] = {}
    for c, source in findings.items():
        if source != "realtime" or not (c in hidden_at and c in received and c in created_at):
            continue
        second = int(created_at[c] - start)
        total = (hidden_at[c] - created_at[c]) * 1000
        if total > worst.get(second, (0.0, 0.0))[0]:
            worst[second] = (total, (received[c] - created_at[c]) * 1000)
    ranked = sorted(worst.items(), key=lambda item: -item[1][0])[:most]
    return [f"{sec}s: {total:.0f} / {lag:.0f}" for sec, (total, lag) in sorted(ranked)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="comments per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--personal", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--webhook-batch",
        type=int,
        default=DEFAULT_WEBHOOK_BATCH,
        help="most changes the sandbox puts in one webhook POST",
    )
    parser.add_argument(
        "--webhook-connections",
        type=int,
        default=None,
        help="webhook deliveries the sandbox has in flight at once (its default: 32)",
    )
    args = parser.parse_args()
    result = asyncio.run(
        bench(
            args.rate,
            args.seconds,
            args.personal,
            args.workers,
            args.webhook_batch,
            args.webhook_connections,
        )
    )
    print_result(result)


if __name__ == "__main__":
    main()
