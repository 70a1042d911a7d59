"""Remembering the first answer to a key.

``begin`` runs before the operation, in its own short unit of work: it claims the key (a row
marked in flight) or finds the answer to replay, and refuses a key reused for another request.
``finish`` stores the answer after the operation committed; ``abandon`` forgets the key when the
operation failed with a server error, so that a retry with the same key runs it again. Expired
keys of the tenant are purged on the way (no cron needed: they are only read here)."""

from __future__ import annotations

import datetime as dt

import msgspec

from service.crypto import Cipher
from service.db import UnitOfWork
from service.idempotency.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from service.idempotency.models import RESPONSE_PURPOSE as _PURPOSE
from service.idempotency.repository import IdempotencyRepository

# A first request that never recorded its answer (its process died) stops blocking the key.
_IN_FLIGHT_FOR = dt.timedelta(minutes=5)


class Replay(msgspec.Struct, frozen=True):
    status: int
    content_type: str
    body: bytes


async def begin(
    uow: UnitOfWork,
    cipher: Cipher,
    key: str,
    request_hash: bytes,
    *,
    ttl: dt.timedelta,
    now: dt.datetime,
) -> Replay | None:
    """None: the caller runs the operation (and then ``finish``es or ``abandon``s it)."""
    repo = IdempotencyRepository(uow)
    await repo.purge_expired(now)
    if await repo.claim(key, request_hash, now + ttl):
        return None
    record = await repo.get_for_update(key)
    if record is None:  # purged between the two statements
        await repo.claim(key, request_hash, now + ttl)
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request; use a new key."
        )
    if record.status is None or record.body is None:
        if record.updated_at > now - _IN_FLIGHT_FOR:
            raise IdempotencyKeyInFlight(
                "A request with this Idempotency-Key is still in progress; retry shortly."
            )
        await repo.restart(key, request_hash, now + ttl)
        return None
    body = cipher.decrypt(record.body, tenant_id=uow.tenant, purpose=_PURPOSE)
    return Replay(status=record.status, content_type=record.content_type or "", body=body)


async def finish(
    uow: UnitOfWork, cipher: Cipher, key: str, status: int, content_type: str, body: bytes
) -> None:
    sealed = cipher.encrypt(body, tenant_id=uow.tenant, purpose=_PURPOSE)
    await IdempotencyRepository(uow).answer(key, status, content_type, sealed)


async def abandon(uow: UnitOfWork, key: str) -> None:
    await IdempotencyRepository(uow).release(key)
