from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from service.db import UnitOfWork
from service.idempotency.models import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def claim(self, key: str, request_hash: bytes, expires_at: dt.datetime) -> bool:
        """Insert the key as in flight; False when the tenant already has it."""
        stmt = (
            insert(IdempotencyRecord)
            .values(
                tenant_id=self.uow.tenant, key=key, request_hash=request_hash, expires_at=expires_at
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
            .returning(IdempotencyRecord.key)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def get_for_update(self, key: str) -> IdempotencyRecord | None:
        stmt = (
            select(IdempotencyRecord)
            .where(IdempotencyRecord.tenant_id == self.uow.tenant, IdempotencyRecord.key == key)
            .with_for_update()
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def answer(self, key: str, status: int, content_type: str, body: bytes) -> None:
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.tenant_id == self.uow.tenant, IdempotencyRecord.key == key)
            .values(status=status, content_type=content_type, body=body)
        )

    async def release(self, key: str) -> None:
        await self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == self.uow.tenant, IdempotencyRecord.key == key
            )
        )

    async def restart(self, key: str, request_hash: bytes, expires_at: dt.datetime) -> None:
        """Reuse an expired key for a new request."""
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.tenant_id == self.uow.tenant, IdempotencyRecord.key == key)
            .values(
                request_hash=request_hash,
                status=None,
                content_type=None,
                body=None,
                expires_at=expires_at,
            )
        )

    async def purge_expired(self, now: dt.datetime) -> None:
        await self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == self.uow.tenant, IdempotencyRecord.expires_at <= now
            )
        )
