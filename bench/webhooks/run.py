"""Outbound webhooks: deliveries per second, and time from the causing commit to the
receiver's 2xx, with and without another endpoint timing out.

    .venv/bin/python -m bench.webhooks.run        # --deliveries 3000 --rate 20 --seconds 20

A fresh database; `wallguard worker` processes (the production worker, its poll delay and job
concurrency; two by default, one per core); the receiver (`bench/webhooks/receiver.py`, uvicorn)
in its own process, verifying every request with `standardwebhooks` as an agency's would and
noting when it answers 2xx. Events are
emitted as producers emit them: `emit()` inside a unit of work, the delivery job sent after the
commit.

1. Throughput: the tenant has one endpoint; N events are committed in transactions of 100 as
   fast as possible; deliveries/s = N / (first commit .. last 2xx). The ceiling in the same run:
   `bench/webhooks/raw.py`, the same sender posting to the same receiver with no database.
2. Latency, healthy: one event per transaction at a steady rate; commit -> 2xx per event.
3. Latency while another endpoint of the same tenant times out: the same, with a second endpoint
   (subscribed to the same events) that never answers within the 15 s timeout. Compared with 2
   in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from bench.pipeline.common import (
    REDIS_URL,
    bench_settings,
    drop_database,
    free_port,
    fresh_database,
)
from service.apikeys.service import onboard_tenant
from service.auth.tenants import system_tenant
from service.auth.types import Principal, Scope, TenantId
from service.connections.models import Platform
from service.crypto import Cipher
from service.db import Database
from service.detection import EntityType
from service.findings.models import FindingSource, FindingStatus
from service.queue import Queue
from service.tenancy.models import TenantKind
from service.webhooks import schemas
from service.webhooks.delivery import policy_of
from service.webhooks.events import EventType, FindingEventData, WebhookEntity
from service.webhooks.service import WebhookEndpointService, emit


class Receiver:
    """`bench/webhooks/receiver.py` in its own process, and when it answered each event."""

    def __init__(self, port: int, secrets: list[str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.webhooks.receiver", str(port), *secrets],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                httpx.get(f"{self.url}/count", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not start")

    async def times(self) -> dict[str, float]:
        async with httpx.AsyncClient() as http:
            answered: dict[str, float] = (await http.get(f"{self.url}/times")).json()
        return answered

    async def wait_for(self, ids: set[str], limit: float) -> dict[str, float]:
        deadline = time.monotonic() + limit
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                count = (await http.get(f"{self.url}/count")).json()
                if count["rejected"]:
                    raise RuntimeError(f"{count['rejected']} requests failed verification")
                if count["count"] >= len(ids):
                    answered = await self.times()
                    if ids <= answered.keys():
                        return answered
                await asyncio.sleep(0.05)
        raise RuntimeError("deliveries never arrived")

    def stop(self) -> None:
        self.process.kill()  # not terminate: uvicorn would wait out the /dead requests
        self.process.wait(10)


def _finding(tenant_id: TenantId, client_id: uuid.UUID) -> FindingEventData:
    from service.db import utcnow

    now = utcnow()
    finding_id = uuid.uuid4()
    return FindingEventData(
        tenant_id=tenant_id,
        client_id=client_id,
        connection_id=uuid.uuid4(),
        finding_id=finding_id,
        scan_id=None,
        platform=Platform.FACEBOOK,
        post_id="1_2",
        comment_id=f"2_{finding_id.hex[:8]}",
        permalink_url=None,
        by_page=False,
        types=[EntityType.PHONE_NUMBER],
        entities=[
            WebhookEntity(type=EntityType.PHONE_NUMBER, score=0.97, masked="+45 •• •• •• 78")
        ],
        max_score=0.97,
        status=FindingStatus.PENDING_HIDE,
        source=FindingSource.REALTIME,
        comment_created_at=now,
        received_at=now,
        hidden_at=None,
        reviewed_at=None,
        url=f"http://127.0.0.1:8000/v1/findings/{finding_id}",
    )


async def _emit(
    db: Database, tenant_id: TenantId, client_id: uuid.UUID, count: int
) -> dict[str, float]:
    """``count`` events in one unit of work; returns when each was committed (by finding id)."""
    events = [_finding(tenant_id, client_id) for _ in range(count)]
    async with db.unit_of_work(tenant_id) as uow:
        for data in events:
            emit(uow, tenant_id, EventType.FINDING_CREATED, data, client_id=client_id)
    # After the unit of work: committed and the jobs sent.
    now = time.time()
    return {str(data.finding_id): now for data in events}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(deliveries: int, rate: float, seconds: float, workers: int) -> dict[str, Any]:
    name = f"wallguard_bench_webhooks_{os.getpid()}"
    url = await fresh_database(name)
    settings = bench_settings(url)
    env = {
        **os.environ,
        "WALLGUARD_ENV": "test",
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "WALLGUARD_QUEUE_NAME": settings.queue_name,
        "WALLGUARD_LOG_LEVEL": "WARNING",
    }
    processes = [
        subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is measured)
            [sys.executable, "-m", "service.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    db = Database(settings, queue)
    cipher = Cipher(settings.encryption_keys)
    results: dict[str, Any] = {}
    receiver: Receiver | None = None
    port = free_port()
    secrets: list[str] = []
    try:

        async def tenant_with_endpoints(*paths: str) -> TenantId:
            async with db.system_unit_of_work() as uow:
                onboarded = await onboard_tenant(
                    uow, f"bench-{uuid.uuid4().hex[:6]}", TenantKind.COMPANY
                )
            tenant_id = system_tenant(onboarded.tenant_id)
            principal = Principal(
                tenant_id=tenant_id, api_key_id=uuid.uuid4(), scopes=frozenset({Scope.ADMIN})
            )
            for path in paths:
                async with db.unit_of_work(tenant_id) as uow:
                    created = await WebhookEndpointService(uow, cipher, policy_of(settings)).create(
                        principal,
                        schemas.WebhookEndpointCreate(url=f"http://127.0.0.1:{port}{path}"),
                    )
                secrets.append(created.secret)
            return tenant_id

        bulk = await tenant_with_endpoints("/ok")
        healthy = await tenant_with_endpoints("/ok")
        beside_dead = await tenant_with_endpoints("/ok", "/dead")
        receiver = await asyncio.to_thread(Receiver, port, secrets)
        client_id = uuid.uuid4()

        # 1. Throughput
        warm = await _emit(db, bulk, client_id, 20)
        await receiver.wait_for(set(warm), 60)
        committed: dict[str, float] = {}
        started = time.time()
        for _ in range(deliveries // 100):
            committed.update(await _emit(db, bulk, client_id, 100))
        emitted = time.time()
        answered = await receiver.wait_for(set(committed) | set(warm), 600)
        last = max(answered[k] for k in committed)
        results["throughput"] = {
            "deliveries": len(committed),
            "emit_seconds": emitted - started,
            "seconds": last - started,
            "per_second": len(committed) / (last - started),
        }
        print("throughput", results["throughput"], flush=True)
        # The ceiling in this run: the same sender, the same receiver, no database, no queue.
        raw = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bench.webhooks.raw", f"{receiver.url}/ok", secrets[0], "3000"],
            capture_output=True,
            text=True,
            check=True,
        )
        results["raw_per_second"] = float(raw.stdout.strip().splitlines()[-1])
        print("raw", results["raw_per_second"], flush=True)

        # 2. and 3. Latency at a steady rate, then with a dead endpoint beside it
        async def steady(tenant_id: TenantId) -> dict[str, float]:
            assert receiver is not None
            committed: dict[str, float] = {}
            interval = 1 / rate
            next_at = time.monotonic()
            for _ in range(int(rate * seconds)):
                committed.update(await _emit(db, tenant_id, client_id, 1))
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            answered = await receiver.wait_for(set(committed), 120)
            latencies = [(answered[k] - committed[k]) * 1000 for k in committed]
            return {
                "events": len(latencies),
                "p50_ms": _percentile(latencies, 0.5),
                "p90_ms": _percentile(latencies, 0.9),
                "p99_ms": _percentile(latencies, 0.99),
                "max_ms": max(latencies),
                "mean_ms": statistics.fmean(latencies),
            }

        results["healthy"] = await steady(healthy)
        print("healthy", results["healthy"], flush=True)
        results["beside_a_dead_endpoint"] = await steady(beside_dead)
        print("beside a dead endpoint", results["beside_a_dead_endpoint"], flush=True)
        return results
    finally:
        # Workers first, whatever else fails: a leaked worker keeps its database connections.
        for process in processes:
            process.kill()
            process.wait(10)
        if receiver is not None:
            receiver.stop()
        await db.dispose()
        await queue.redis.delete(settings.queue_name)
        await queue.close()
        await drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=20.0, help="events/s for the latency runs")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each latency run")
    parser.add_argument("--workers", type=int, default=2, help="`wallguard worker` processes")
    args = parser.parse_args()
    results = asyncio.run(run(args.deliveries, args.rate, args.seconds, args.workers))
    t, h, d = results["throughput"], results["healthy"], results["beside_a_dead_endpoint"]
    print()

    def row(label: str, r: dict[str, float]) -> str:
        figures = " / ".join(f"{r[k]:.1f}" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"))
        return f"| commit -> 2xx p50 / p90 / p99 / max, {label} | {figures} ms |"

    print(
        f"| deliveries/s to one local receiver | {t['per_second']:,.0f} "
        f"({t['deliveries']:,} in {t['seconds']:.2f} s) |"
    )
    print(
        f"| same sender and receiver, no database or queue (ceiling) | "
        f"{results['raw_per_second']:,.0f} |"
    )
    print(row("healthy", h))
    print(row("another endpoint timing out", d))
    print(
        f"| ratio p50 / p99 (timing out / healthy) | {d['p50_ms'] / h['p50_ms']:.2f} / "
        f"{d['p99_ms'] / h['p99_ms']:.2f} |"
    )


if __name__ == "__main__":
    main()
