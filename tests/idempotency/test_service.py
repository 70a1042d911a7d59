"""The key's life in Postgres: claimed, in flight, answered, abandoned, expired."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from service.crypto import Cipher
from service.db import Database, utcnow
from service.idempotency import service as idempotency
from service.idempotency.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from service.settings import Settings
from tests.conftest import MakeTenant

DAY = dt.timedelta(days=1)


async def test_in_flight_answered_abandoned_and_stale(
    db: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    t = await make_tenant()
    cipher = Cipher(settings.encryption_keys)
    h1, h2 = hashlib.sha256(b"one").digest(), hashlib.sha256(b"two").digest()
    now = utcnow()
    async with db.unit_of_work(t.tenant_id) as uow:
        assert await idempotency.begin(uow, cipher, "k", h1, ttl=DAY, now=now) is None
    # While the first request runs, a repeat is told to wait; another request is refused.
    async with db.unit_of_work(t.tenant_id) as uow:
        with pytest.raises(IdempotencyKeyInFlight):
            await idempotency.begin(uow, cipher, "k", h1, ttl=DAY, now=now)
    async with db.unit_of_work(t.tenant_id) as uow:
        with pytest.raises(IdempotencyKeyReused):
            await idempotency.begin(uow, cipher, "k", h2, ttl=DAY, now=now)
    # A server error forgets the key: the retry runs the operation.
    async with db.unit_of_work(t.tenant_id) as uow:
        await idempotency.abandon(uow, "k")
    async with db.unit_of_work(t.tenant_id) as uow:
        assert await idempotency.begin(uow, cipher, "k", h1, ttl=DAY, now=now) is None
    async with db.unit_of_work(t.tenant_id) as uow:
        await idempotency.finish(uow, cipher, "k", 201, "application/json", b'{"id":1}')
    async with db.unit_of_work(t.tenant_id) as uow:
        replay = await idempotency.begin(uow, cipher, "k", h1, ttl=DAY, now=now)
    assert replay == idempotency.Replay(201, "application/json", b'{"id":1}')
    # A first request whose process died stops blocking its key after a while.
    async with db.unit_of_work(t.tenant_id) as uow:
        assert await idempotency.begin(uow, cipher, "k2", h1, ttl=DAY, now=now) is None
    async with db.unit_of_work(t.tenant_id) as uow:
        later = now + dt.timedelta(minutes=10)
        assert await idempotency.begin(uow, cipher, "k2", h1, ttl=DAY, now=later) is None
    # After the time to live, a key is free for anything.
    async with db.unit_of_work(t.tenant_id) as uow:
        assert await idempotency.begin(uow, cipher, "k", h2, ttl=DAY, now=now + 2 * DAY) is None
