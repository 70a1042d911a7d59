"""Erasing a whole tenant: ``DELETE /v1/tenant`` and ``wallguard tenants delete ID``.

``begin_deletion`` does at once what must not wait: marks the tenant deleting (nothing new is
accepted), revokes every API key, unsubscribes the app from each connected Facebook page (best
effort: a dead token cannot), and forgets the page tokens. ``delete_tenant_data`` then removes
the data, a bounded batch per transaction for the big tables, and finally the tenant row, whose
foreign keys cascade to what is left (clients, connections, policies, service hours, comment
counts, keys, the audit trail, tombstones). It is safe to run again after a crash.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import structlog
from sqlalchemy import select, text, update

from service import queue
from service.apikeys.models import ApiKey
from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import page_token
from service.crypto import Cipher
from service.db import Database, utcnow
from service.errors import FieldError, NotFound, ValidationFailed
from service.platforms import errors as platform_errors
from service.platforms.graph import GraphClient
from service.tenancy.models import Tenant

log = structlog.get_logger(__name__)

BATCH = 5000
# The big tables, emptied in batches before the tenant row's cascade takes the rest.
# comment_counts (a row per connection and minute, pruned by the storm watcher) and
# service_hours go with the connections' and clients' cascade.
_BATCHED_TABLES = (
    "findings",
    "moderation_actions",
    "inbox_events",
    "scans",
    "tracked_comments",
    "storms",
)


class TenantDeletionRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # The tenant's own id, typed out: deleting everything takes more than one click.
    confirm: str


class TenantDeletion(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    status: str  # "deleting"
    api_keys_revoked: int
    pages_unsubscribed: int
    tokens_forgotten: int


async def begin_deletion(
    db: Database,
    graph: GraphClient,
    cipher: Cipher,
    tenant_id: TenantId,
    *,
    confirm: str,
    actor: str,
) -> TenantDeletion:
    if confirm.strip().lower() != str(tenant_id):
        raise ValidationFailed(
            "To delete the tenant and all its data, send its id as `confirm`.",
            errors=[FieldError(field="$.confirm", message="must be the tenant's id")],
        )
    now = utcnow()
    async with db.unit_of_work(tenant_id) as uow:
        tenant = await uow.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound("Tenant not found.")
        tenant.deleting_at = tenant.deleting_at or now
        revoked = await uow.session.execute(
            update(ApiKey)
            .where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(ApiKey.id)
        )
        keys = len(revoked.all())
        connections = (
            await uow.session.scalars(select(Connection).where(Connection.tenant_id == tenant_id))
        ).all()
        tokens = [
            (c.external_id, page_token(cipher, c))
            for c in connections
            if c.platform is Platform.FACEBOOK and c.token_ciphertext is not None
        ]
        record(
            uow,
            tenant_id,
            actor=actor,
            action="tenant.deletion_requested",
            subject_type="tenant",
            subject_id=tenant_id,
            data={"api_keys_revoked": keys},
        )
    unsubscribed = 0
    for page_id, token in tokens:
        try:
            await graph.unsubscribe_page(page_id, token)
            unsubscribed += 1
        except platform_errors.PlatformError as exc:
            log.info("page_unsubscribe_failed", error=type(exc).__name__)
    async with db.unit_of_work(tenant_id) as uow:
        forgotten = await uow.session.execute(
            update(Connection)
            .where(Connection.tenant_id == tenant_id, Connection.token_ciphertext.is_not(None))
            .values(
                token_ciphertext=None,
                status=ConnectionStatus.REVOKED,
                status_reason="the tenant is being deleted",
                subscribed_at=None,
            )
            .returning(Connection.id)
        )
        tokens_forgotten = len(forgotten.all())
        await uow.session.execute(
            update(Connection)
            .where(Connection.tenant_id == tenant_id)
            .values(status=ConnectionStatus.REVOKED)
        )
        uow.jobs.add(queue.delete_tenant(tenant_id))
    return TenantDeletion(
        tenant_id=tenant_id,
        status="deleting",
        api_keys_revoked=keys,
        pages_unsubscribed=unsubscribed,
        tokens_forgotten=tokens_forgotten,
    )


async def stale_deletions(db: Database, stale_after: dt.timedelta) -> list[TenantId]:
    """Tenants still being deleted ``stale_after`` after it began (their job was lost)."""
    async with db.system_unit_of_work() as uow:
        ids = await uow.session.scalars(
            select(Tenant.id).where(Tenant.deleting_at < utcnow() - stale_after)
        )
        return [system_tenant(tenant_id) for tenant_id in ids]


async def delete_tenant_data(db: Database, tenant_id: TenantId) -> dict[str, int]:
    """Remove a deleting tenant's data and then the tenant. Returns the counts per table."""
    async with db.unit_of_work(tenant_id) as uow:
        tenant = await uow.session.get(Tenant, tenant_id)
        if tenant is None:
            return {}
        if tenant.deleting_at is None:
            raise ValidationFailed("The tenant was not asked to be deleted.")
    counts: dict[str, int] = {}
    for table in _BATCHED_TABLES:
        while True:
            async with db.unit_of_work(tenant_id) as uow:
                result = await uow.session.execute(
                    text(
                        f"DELETE FROM {table} WHERE (tenant_id, id) IN ("  # noqa: S608
                        f"SELECT tenant_id, id FROM {table} WHERE tenant_id = :t LIMIT :n)"
                    ),
                    {"t": tenant_id, "n": BATCH},
                )
                removed = int(getattr(result, "rowcount", 0) or 0)
            counts[table] = counts.get(table, 0) + removed
            if removed < BATCH:
                break
    async with db.unit_of_work(tenant_id) as uow:
        await uow.session.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": tenant_id})
    log.info("tenant_deleted", tenant_id=str(tenant_id), **counts)
    return counts
