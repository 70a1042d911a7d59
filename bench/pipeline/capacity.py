"""Benchmark: the capacity table, rate x worker processes -> time to hide p50/p99.

    .venv/bin/python -m bench.pipeline.capacity [--rates 50,100,150,250] [--workers 1,2]
                                                [--seconds 30] [--personal 0.2]

Each cell is one ``bench.pipeline.time_to_hide`` run (API, workers and sandbox as processes on a
fresh database, comments posted a 20 ms tick at a time). The machine's load average
(``/proc/loadavg``) is recorded before each run: on a shared machine the absolute figures move
with it. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
from pathlib import Path
from typing import Any

from bench.pipeline.time_to_hide import bench


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


async def table(
    rates: list[float], workers: list[int], seconds: float, personal: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for count in workers:
        for rate in rates:
            load = load_average()
            result = await bench(rate, seconds, personal, count)
            result["load_before"] = load
            rows.append(result)
            print(_row(result), flush=True)
    return rows


HEADER = (
    "| workers | rate/s | achieved/s | comments | hidden | p50 ms | p99 ms | max ms "
    "| from created p50 / p99 ms | max hide calls | webhook answers | CPU s sandbox / api "
    "/ workers / postgres | load before |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _row(r: dict[str, Any]) -> str:
    return (
        f"| {r['workers']} | {r['rate']:g} | {r['achieved_rate']} | {r['comments_sent']} "
        f"| {r['hidden_realtime']}/{r['findings']} | {r['p50_ms']} | {r['p99_ms']} "
        f"| {r['max_ms']} | {r['from_created_p50_ms']} / {r['from_created_p99_ms']} "
        f"| {r['max_hide_calls']} | {r['webhook_answers']} "
        f"| {r['cpu_sandbox_s']} / {r['cpu_api_s']} / {r['cpu_workers_s']} "
        f"/ {r['cpu_postgres_s']} "
        f"| {r['load_before']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rates", default="50,100,150,250")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--personal", type=float, default=0.2)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    print(f"# {platform.node()} {platform.processor() or platform.machine()}", flush=True)
    print(HEADER, flush=True)
    asyncio.run(table(rates, workers, args.seconds, args.personal))


if __name__ == "__main__":
    main()
