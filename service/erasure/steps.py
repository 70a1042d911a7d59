"""The erasure job's steps: they open their own units of work, and call the platform between
them, never inside one (docs/architecture.md). See service.erasure.service for the order."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TypeVar

import msgspec
import structlog

from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus
from service.connections.service import page_token
from service.crypto import Cipher
from service.db import Database, UnitOfWork, utcnow
from service.erasure.models import (
    AUTHOR_ID_PURPOSE,
    ErasureRequest,
    ErasureStatus,
    TombstoneKind,
)
from service.erasure.repository import ErasureRequestRepository, SubjectRepository
from service.erasure.tombstones import add_tombstones, ref, tombstone_key
from service.platforms import errors as platform_errors
from service.platforms.graph import GraphClient
from service.settings import Settings
from service.webhooks.events import ErasureCounts, ErasureEventData, EventType
from service.webhooks.service import api_url, emit

log = structlog.get_logger(__name__)

ACTOR = "system:erasure"
# Rows removed per transaction.
BATCH = 500
T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _emit_outcome(uow: UnitOfWork, tenant_id: TenantId, request: ErasureRequest) -> None:
    """erasure.completed or erasure.failed, in the unit of work that finishes the request: ids
    and counts only (service/webhooks/events.py). ``client_id`` None: a request spans the
    tenant's clients, so only endpoints not limited to one client get it."""
    completed = request.status is ErasureStatus.COMPLETED
    emit(
        uow,
        tenant_id,
        EventType.ERASURE_COMPLETED if completed else EventType.ERASURE_FAILED,
        ErasureEventData(
            tenant_id=tenant_id,
            erasure_request_id=request.id,
            finding_id=request.finding_id,
            delete_on_platform=request.delete_on_platform,
            counts=msgspec.convert(request.counts, ErasureCounts) if completed else None,
            error=request.last_error,
            requested_at=request.created_at,
            finished_at=request.finished_at or utcnow(),
            url=api_url(uow.public_url, f"/v1/erasure-requests/{request.id}"),
        ),
        client_id=None,
    )


async def run_erasure(
    db: Database,
    settings: Settings,
    cipher: Cipher,
    graph: GraphClient,
    tenant_id: TenantId,
    request_id: uuid.UUID,
) -> ErasureStatus | None:
    """Carry out one erasure request (see the module docstring). Returns its final status, or
    None when there is nothing to do (unknown or already completed)."""
    # 1. Claim it, find what is held, lay the tombstones, commit.
    async with db.unit_of_work(tenant_id) as uow:
        request = await ErasureRequestRepository(uow.session).lock(tenant_id, request_id)
        if request is None or request.status in {ErasureStatus.COMPLETED, ErasureStatus.FAILED}:
            return None
        request.status = ErasureStatus.RUNNING
        request.started_at = request.started_at or utcnow()
        request.attempts += 1
        platform = request.platform
        delete_on_platform = request.delete_on_platform
        author_id = (
            cipher.decrypt_text(
                request.author_id_ciphertext, tenant_id=tenant_id, purpose=AUTHOR_ID_PURPOSE
            )
            if request.author_id_ciphertext is not None
            else None
        )
        subjects = SubjectRepository(uow.session)
        findings = await subjects.findings(
            tenant_id, platform=platform, author_id=author_id, finding_id=request.finding_id
        )
        events = (
            await subjects.inbox_events(tenant_id, platform, author_id)
            if platform and author_id
            else []
        )
        finding_ids = [f.id for f in findings]
        comments = list(
            dict.fromkeys(
                [(f.connection_id, f.comment_id) for f in findings]
                + [(cid, oid) for _, cid, oid in events if oid]
            )
        )
        event_ids = [eid for eid, _, _ in events]
        key = tombstone_key(settings.secret_key, tenant_id)
        entries: list[tuple[TombstoneKind, str]] = []
        if platform and author_id:
            entries.append((TombstoneKind.AUTHOR, ref(key, platform, author_id)))
        if platform:
            entries += [(TombstoneKind.COMMENT, ref(key, platform, cid)) for _, cid in comments]
        tombstones = await add_tombstones(uow.session, tenant_id, request_id, entries)
        connections = {
            c.id: c
            for c in [
                await uow.session.get(Connection, (tenant_id, cid))
                for cid in {cid for cid, _ in comments}
            ]
            if c is not None
        }
        tokens = {
            cid: page_token(cipher, c)
            for cid, c in connections.items()
            if delete_on_platform
            and c.status is ConnectionStatus.ACTIVE
            and c.token_ciphertext is not None
        }

    # 2. On the platform, outside any transaction.
    deleted = failed = 0
    gone: set[tuple[uuid.UUID, str]] = set()
    if delete_on_platform:
        for connection_id, comment_id in comments:
            token = tokens.get(connection_id)
            if token is None:
                failed += 1
                continue
            try:
                await graph.delete_comment(comment_id, token)
            except platform_errors.PlatformNotFound:
                pass  # already gone
            except platform_errors.PlatformError as exc:
                failed += 1
                log.info("erasure_platform_delete_failed", error=type(exc).__name__)
                continue
            deleted += 1
            gone.add((connection_id, comment_id))

    # 3. What Wallguard holds, a bounded batch per transaction.
    counts = {
        "findings": 0,
        "inbox_events": 0,
        "moderation_actions": 0,
        "tracked_comments": 0,
        "tombstones": tombstones,
    }
    for chunk in _chunks(comments, BATCH):
        async with db.unit_of_work(tenant_id) as uow:
            subjects = SubjectRepository(uow.session)
            deleted_there = [c for c in chunk if c in gone]
            still_there = [c for c in chunk if c not in gone]
            counts["moderation_actions"] += await subjects.delete_actions(
                tenant_id, deleted_there, pending_too=True
            )
            counts["moderation_actions"] += await subjects.delete_actions(
                tenant_id, still_there, pending_too=False
            )
            counts["tracked_comments"] += await subjects.delete_tracked_comments(tenant_id, chunk)
    for ids in _chunks(finding_ids, BATCH):
        async with db.unit_of_work(tenant_id) as uow:
            counts["findings"] += await SubjectRepository(uow.session).delete_findings(
                tenant_id, ids
            )
    for index in range(0, max(len(event_ids), len(comments)), BATCH):
        async with db.unit_of_work(tenant_id) as uow:
            counts["inbox_events"] += await SubjectRepository(uow.session).delete_inbox_events(
                tenant_id, event_ids[index : index + BATCH], comments[index : index + BATCH]
            )
    if delete_on_platform:
        counts["platform_comments_deleted"] = deleted
        counts["platform_delete_failed"] = failed

    # 4. Done: counts, audit, and the author id forgotten.
    async with db.unit_of_work(tenant_id) as uow:
        request = await ErasureRequestRepository(uow.session).lock(tenant_id, request_id)
        if request is None:
            return None
        request.status = ErasureStatus.COMPLETED
        request.counts = counts
        request.finished_at = utcnow()
        request.author_id_ciphertext = None
        request.last_error = (
            f"{failed} comment(s) could not be deleted on the platform" if failed else None
        )
        record(
            uow,
            tenant_id,
            actor=ACTOR,
            action="erasure.completed",
            subject_type="erasure_request",
            subject_id=request_id,
            data={"counts": counts},
        )
        _emit_outcome(uow, tenant_id, request)
    log.info("erasure_completed", request_id=str(request_id), **counts)
    return ErasureStatus.COMPLETED


async def stale_erasures(
    db: Database, stale_after: dt.timedelta
) -> list[tuple[TenantId, uuid.UUID, str]]:
    """Requests left pending or running for ``stale_after`` (their job was lost): (tenant,
    request, attempt) for sending them again; each is touched, so it waits as long again."""
    now = utcnow()
    async with db.system_unit_of_work() as uow:
        stale = await ErasureRequestRepository(uow.session).open_and_stale(
            now - stale_after, limit=100
        )
        for request in stale:
            request.updated_at = now
        return [(system_tenant(r.tenant_id), r.id, f"r{int(now.timestamp())}") for r in stale]


async def fail_erasure(
    db: Database, tenant_id: TenantId, request_id: uuid.UUID, error: str
) -> None:
    """Give up on a request after repeated errors (the tombstones already laid stay)."""
    async with db.unit_of_work(tenant_id) as uow:
        request = await ErasureRequestRepository(uow.session).lock(tenant_id, request_id)
        if request is None or request.status in {ErasureStatus.COMPLETED, ErasureStatus.FAILED}:
            return
        request.status = ErasureStatus.FAILED
        request.last_error = error[:500]
        request.finished_at = utcnow()
        record(
            uow,
            tenant_id,
            actor=ACTOR,
            action="erasure.failed",
            subject_type="erasure_request",
            subject_id=request_id,
            data={"error": error[:200]},
        )
        _emit_outcome(uow, tenant_id, request)
