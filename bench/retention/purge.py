"""Purging 1,000,000 expired findings of one tenant while another tenant uses the API.

    .venv/bin/python -m bench.retention.purge            # --findings 1000000 --batch 1000

A fresh database; tenant A with ``--findings`` findings received 100 days ago, each with its
done hide action (what a hidden comment leaves), tenant B with 1,000 recent findings. The API
runs as `wallguard serve`; a probe process lists B's findings one request after another, first
alone (baseline), then while A's purge runs (``service.retention.purge.purge_tenant``, the code
the cron job runs, in this process). Reports the purge's time, its longest batch transaction
(the longest any row lock was held) and B's latency in both phases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid

import asyncpg
import httpx

from bench.pipeline.common import (
    bench_settings,
    drop_database,
    free_port,
    fresh_database,
)
from service.apikeys.service import onboard_tenant
from service.auth.types import TenantId
from service.crypto import Cipher
from service.db import Database
from service.findings.models import EXCERPT_PURPOSE
from service.retention.purge import PurgeResult, purge_tenant
from service.tenancy.models import TenantKind
from tests.retention.support import add_page

_FILL = """
INSERT INTO findings (tenant_id, id, connection_id, client_id, comment_id, post_id, parent_id,
    author_id, by_page, types, entities, masked_excerpt_ciphertext, fingerprints, max_score,
    status, source, received_at, hidden_at)
SELECT $1, gen_random_uuid(), $2, $3, 'c' || g, '1_2', '1_2', 'a' || (g % 50000), false,
    ARRAY['PHONE_NUMBER'], '[{"type": "PHONE_NUMBER", "start": 0, "end": 8, "score": 0.9,
    "masked": "•• •• •• 78"}]'::jsonb, $7, ARRAY[md5(g::text)], 0.9, 'hidden',
    'realtime', $4, $4
FROM generate_series($5::bigint, $6::bigint) AS g
"""
_ACTIONS = """
INSERT INTO moderation_actions (tenant_id, id, connection_id, finding_id, comment_id, kind,
    status, attempts, requested_by, done_at)
SELECT tenant_id, gen_random_uuid(), connection_id, id, comment_id, 'hide', 'done', 1,
    'system:pipeline', received_at
FROM findings WHERE tenant_id = $1
"""


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def _latencies(path: str, since: float, until: float) -> list[float]:
    with open(path, encoding="utf-8") as f:
        rows = [tuple(map(float, line.split())) for line in f if line.strip()]
    return [lat for started, lat in rows if since <= started < until]


async def _fill(
    dsn: str, tenant: TenantId, connection: uuid.UUID, client: uuid.UUID, count: int, days_ago: int
) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        at = await conn.fetchval(f"SELECT now() - interval '{days_ago} days'")
        excerpt = Cipher(bench_settings(dsn).encryption_keys).encrypt_text(
            "ring på •• •• •• 78", tenant_id=tenant, purpose=EXCERPT_PURPOSE
        )
        step = 200_000
        for start in range(1, count + 1, step):
            await conn.execute(
                _FILL, tenant, connection, client, at, start, min(start + step - 1, count), excerpt
            )
        await conn.execute(_ACTIONS, tenant)
        await conn.execute("ANALYZE findings; ANALYZE moderation_actions")
    finally:
        await conn.close()


async def _setup(url: str, findings: int) -> tuple[TenantId, str]:
    """Tenant A with ``findings`` expired findings, tenant B with 1,000 recent ones."""
    db = Database(bench_settings(url))
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        made = []
        for label in ("A", "B"):
            async with db.system_unit_of_work() as uow:
                onboarded = await onboard_tenant(uow, f"bench-{label}", TenantKind.AGENCY)
            made.append((onboarded, await add_page(db, TenantId(onboarded.tenant_id))))
    finally:
        await db.dispose()
    (big, big_page), (other, other_page) = made
    started = time.monotonic()
    await _fill(dsn, big_page.tenant_id, big_page.connection_id, big_page.client_id, findings, 100)
    await _fill(dsn, other_page.tenant_id, other_page.connection_id, other_page.client_id, 1000, 1)
    print(f"filled {findings:,} findings (+ their actions) in {time.monotonic() - started:.0f} s")
    return TenantId(big.tenant_id), other.api_key


async def _purge(url: str, tenant_id: TenantId, batch: int) -> PurgeResult:
    db = Database(bench_settings(url))
    try:
        return await purge_tenant(db, tenant_id, batch=batch)
    finally:
        await db.dispose()


async def _count(url: str, tenant_id: uuid.UUID) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM findings WHERE tenant_id = $1", tenant_id)
        )
    finally:
        await conn.close()


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    settings = bench_settings(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WALLGUARD_ENV": "test",
        "WALLGUARD_LOG_LEVEL": "WARNING",
        "REDIS_URL": settings.redis_url,
        "WALLGUARD_QUEUE_NAME": settings.queue_name,
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return api
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the API did not start")


def main(findings: int, batch: int, baseline_seconds: float) -> None:
    name = f"wallguard_bench_purge_{os.getpid()}"
    url = asyncio.run(fresh_database(name))
    api = probe = None
    try:
        big, other_key = asyncio.run(_setup(url, findings))
        port = free_port()
        api = _serve(url, port)
        out = tempfile.mktemp(prefix="wallguard-probe-")
        probe = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.retention.probe",
                f"http://127.0.0.1:{port}",
                other_key,
                out,
            ]
        )
        time.sleep(2)  # the probe's own warm-up is not the baseline
        baseline_from = time.monotonic()
        time.sleep(baseline_seconds)
        purge_from = time.monotonic()
        result = asyncio.run(_purge(url, big, batch))
        purge_to = time.monotonic()
        open(out + ".stop", "w").close()
        probe.wait(60)
        baseline = _latencies(out, baseline_from, purge_from)
        during = _latencies(out, purge_from, purge_to)
        elapsed = purge_to - purge_from
        print(f"purged: {result.counts} complete={result.complete} batches={result.batches}")
        print(f"left for A: {asyncio.run(_count(url, big))}")
        print(
            f"purge time: {elapsed:.1f} s, {result.counts.get('findings', 0) / elapsed:,.0f} "
            f"findings/s with their actions, batch {batch}"
        )
        print(
            "longest batch transaction (longest any row lock was held): "
            f"{result.longest_batch_seconds * 1000:.0f} ms"
        )
        for label, values in (("baseline", baseline), ("during the purge", during)):
            print(
                f"B's GET /v1/findings {label}: n={len(values)} "
                f"p50={_pct(values, 0.5):.1f} ms p99={_pct(values, 0.99):.1f} ms "
                f"max={max(values) * 1000:.1f} ms"
            )
        print(f"load average: {os.getloadavg()}")
    finally:
        for proc in (probe, api):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        asyncio.run(drop_database(name))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    args = parser.parse_args()
    main(args.findings, args.batch, args.baseline_seconds)
