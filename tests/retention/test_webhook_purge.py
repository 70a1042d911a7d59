"""The outbound-webhook kind of the purge, against tables shaped like the webhooks domain's
(deliveries, their attempts, events), in a scratch database: the webhooks domain is built on
another branch. Once its migration is on this branch the real tables exist and this test stands
aside (that domain's own tests then cover its purge)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from service.apikeys.service import onboard_tenant
from service.auth.tenants import system_tenant
from service.db import Database
from service.migrate import upgrade
from service.retention.purge import WebhookDeliveries, purge_tenant
from service.tenancy.models import TenantKind
from tests.conftest import create_database, drop_database, make_settings

_TABLES = """
CREATE TABLE webhook_events (
    tenant_id uuid, id uuid, created_at timestamptz, PRIMARY KEY (tenant_id, id));
CREATE TABLE webhook_deliveries (
    tenant_id uuid, id uuid, event_id uuid, status text, created_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES webhook_events ON DELETE CASCADE);
CREATE TABLE webhook_attempts (
    tenant_id uuid, id uuid, delivery_id uuid, created_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries ON DELETE CASCADE);
"""


@pytest.fixture
async def scratch() -> AsyncIterator[str]:
    name = f"wallguard_webhook_purge_{os.getpid()}"
    url = await create_database(name)
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_database(name)


async def test_finished_deliveries_their_attempts_and_orphaned_events_go(scratch: str) -> None:
    conn = await asyncpg.connect(scratch.replace("+asyncpg", ""))
    db = Database(make_settings(scratch))
    try:
        if await conn.fetchval("SELECT to_regclass('public.webhook_deliveries') IS NOT NULL"):
            pytest.skip("the webhooks domain's own tables are here: its tests cover them")
        await conn.execute(_TABLES)
        await conn.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE "
            f'ON webhook_events, webhook_deliveries, webhook_attempts TO "{db.settings.db_app_role}"'
        )
        async with db.system_unit_of_work() as uow:
            made = await onboard_tenant(uow, "webhooks", TenantKind.AGENCY)
        tenant_id = system_tenant(made.tenant_id)
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
        for status in ("succeeded", "failed", "pending"):
            event, delivery = uuid.uuid4(), uuid.uuid4()
            await conn.execute(
                "INSERT INTO webhook_events VALUES ($1, $2, $3)", tenant_id, event, old
            )
            await conn.execute(
                "INSERT INTO webhook_deliveries VALUES ($1, $2, $3, $4, $5)",
                tenant_id,
                delivery,
                event,
                status,
                old,
            )
            await conn.execute(
                "INSERT INTO webhook_attempts VALUES ($1, $2, $3, $4)",
                tenant_id,
                uuid.uuid4(),
                delivery,
                old,
            )
        await conn.execute(
            "INSERT INTO webhook_events VALUES ($1, $2, now())", tenant_id, uuid.uuid4()
        )

        result = await purge_tenant(db, tenant_id, kinds=[WebhookDeliveries()], batch=1)
        # Two finished deliveries (their attempts by cascade) and their two events.
        assert result.counts == {"webhook_deliveries": 4} and result.complete
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("webhook_events", "webhook_deliveries", "webhook_attempts")
        }
        # The pending delivery (still work), its attempt and event, and the recent event stay.
        assert counts == {"webhook_events": 2, "webhook_deliveries": 1, "webhook_attempts": 1}
    finally:
        await conn.close()
        await db.dispose()


async def test_without_the_tables_the_kind_does_nothing(scratch: str) -> None:
    db = Database(make_settings(scratch))
    try:
        async with db.system_unit_of_work() as uow:
            made = await onboard_tenant(uow, "no webhooks", TenantKind.AGENCY)
        result = await purge_tenant(db, system_tenant(made.tenant_id), kinds=[WebhookDeliveries()])
        assert result.counts == {} and result.complete
    finally:
        await db.dispose()
