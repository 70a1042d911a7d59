"""The retention purge of outbound-webhook history with and without the index of deliveries by
event (migration 20261202_webhook_purge_index), in one run: the ratio is the figure.

One tenant, ``--events`` finished events each with one succeeded delivery, created 40 days ago;
``purge_tenant`` with only the ``WebhookDeliveries`` kind and its default batch. Without the
index, deleting an event makes PostgreSQL find its deliveries (the ``ON DELETE CASCADE`` foreign
key) by scanning the tenant's deliveries, so the cost grows with the square of the history.

    .venv/bin/python -m bench.retention.webhooks            # --events 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import asyncpg

from bench.pipeline.common import bench_settings, drop_database, fresh_database
from service.apikeys.service import onboard_tenant
from service.auth.tenants import system_tenant
from service.db import Database
from service.retention.purge import PurgeResult, WebhookDeliveries, purge_tenant
from service.tenancy.models import TenantKind


async def run(events: int, with_index: bool) -> tuple[PurgeResult, float]:
    """The purge's result and its wall time (the setup not counted)."""
    name = f"wallguard_bench_webhook_purge_{os.getpid()}"
    url = await fresh_database(name)
    dsn = url.replace("+asyncpg", "")
    db = Database(bench_settings(url))
    try:
        conn = await asyncpg.connect(dsn)
        try:
            if not with_index:
                await conn.execute("DROP INDEX ix_webhook_deliveries_tenant_id_event_id")
            async with db.system_unit_of_work() as uow:
                made = await onboard_tenant(uow, "bench", TenantKind.AGENCY)
            tenant = made.tenant_id
            endpoint = await conn.fetchval(
                "INSERT INTO webhook_endpoints (tenant_id, id, url, event_types, enabled, "
                "secret_ciphertext) VALUES ($1, gen_random_uuid(), 'https://hooks.example', "
                "'{}', true, '\\x00') RETURNING id",
                tenant,
            )
            await conn.execute(
                "INSERT INTO webhook_events (tenant_id, id, type, occurred_at, body, created_at) "
                "SELECT $1, gen_random_uuid(), 'scan.completed', now() - interval '40 days', "
                "'\\x7b7d', now() - interval '40 days' FROM generate_series(1, $2)",
                tenant,
                events,
            )
            await conn.execute(
                "INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, "
                "event_type, status, attempts, round_attempts, next_attempt_at, created_at) "
                "SELECT tenant_id, gen_random_uuid(), $2, id, type, 'succeeded', 1, 1, "
                "created_at, created_at FROM webhook_events WHERE tenant_id = $1",
                tenant,
                endpoint,
            )
            await conn.execute("ANALYZE")
        finally:
            await conn.close()
        started = time.monotonic()
        result = await purge_tenant(db, system_tenant(tenant), kinds=[WebhookDeliveries()])
        return result, time.monotonic() - started
    finally:
        await db.dispose()
        await drop_database(name)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    timings = {}
    for with_index in (True, False):
        result, elapsed = await run(args.events, with_index)
        timings[with_index] = elapsed
        print(
            f"{'with' if with_index else 'without'} the index: {result.counts} "
            f"in {result.batches} transactions, {elapsed:.2f} s, "
            f"longest batch {result.longest_batch_seconds * 1000:.0f} ms"
        )
    print(f"without / with: {timings[False] / timings[True]:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
