"""Erasure requests (art. 17) and subject access (art. 15).

``ErasureService`` records a request and queues ``ERASE_SUBJECT``; ``run_erasure`` is what that
job does, in this order, each step safe to repeat after a crash:

1. tombstones first (author and every comment of theirs that Wallguard knows), committed, so
   whatever enters from then on (webhook, poll, backfill) is dropped at the door;
2. with ``delete_on_platform``, each comment deleted through the platform, outside any
   transaction (a platform call never holds a row lock);
3. findings, the author's inbox events and the finished moderation actions on their comments
   removed, a bounded batch per transaction;
4. the request completed with its counts, the encrypted author id dropped, and audited.

The audit trail keeps what Wallguard did (finding and comment ids, never content): it is the
tenant's record of its processing and ages out with its own retention period.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TypeVar

import structlog

from service import queue
from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import Principal, TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.service import page_token
from service.crypto import Cipher
from service.db import Database, UnitOfWork, utcnow
from service.erasure import schemas
from service.erasure.models import (
    AUTHOR_ID_PURPOSE,
    ErasureRequest,
    ErasureStatus,
    TombstoneKind,
)
from service.erasure.repository import ErasureRequestRepository, SubjectRepository
from service.erasure.tombstones import add_tombstones, ref, tombstone_key
from service.errors import FieldError, Forbidden, NotFound, ValidationFailed
from service.findings.models import EXCERPT_PURPOSE
from service.findings.repository import FindingRepository
from service.platforms import errors as platform_errors
from service.platforms.graph import GraphClient
from service.settings import Settings

log = structlog.get_logger(__name__)

ACTOR = "system:erasure"
# Rows removed per transaction.
BATCH = 500
SUBJECT_FINDINGS_LIMIT = 500
T = TypeVar("T")


def _tenant_wide(principal: Principal) -> None:
    if principal.client_id is not None:
        raise Forbidden("This API key is restricted to one client; erasure is tenant-wide.")


def request_schema(row: ErasureRequest) -> schemas.ErasureRequest:
    return schemas.ErasureRequest(
        id=row.id,
        status=row.status,
        platform=Platform(row.platform) if row.platform else None,
        author_ref=row.author_ref,
        finding_id=row.finding_id,
        delete_on_platform=row.delete_on_platform,
        counts={k: int(v) for k, v in (row.counts or {}).items()},
        last_error=row.last_error,
        requested_by=row.requested_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class ErasureService:
    def __init__(self, uow: UnitOfWork, settings: Settings, cipher: Cipher) -> None:
        self.uow = uow
        self.settings = settings
        self.cipher = cipher
        self.requests = ErasureRequestRepository(uow.session)

    async def create(
        self, principal: Principal, data: schemas.ErasureRequestCreate
    ) -> schemas.ErasureRequest:
        _tenant_wide(principal)
        tenant_id = principal.tenant_id
        by_author = data.platform is not None or data.author_id is not None
        if by_author == (data.finding_id is not None):
            raise ValidationFailed(
                "Name either `platform` and `author_id`, or `finding_id`.",
                errors=[FieldError(field="$", message="exactly one of the two forms")],
            )
        if by_author and (data.platform is None or data.author_id is None):
            missing = "$.platform" if data.platform is None else "$.author_id"
            raise ValidationFailed(
                "`platform` and `author_id` go together.",
                errors=[FieldError(field=missing, message="required with the other")],
            )
        platform = data.platform.value if data.platform is not None else None
        author_id = data.author_id
        if data.finding_id is not None:
            finding = await FindingRepository(self.uow.session).get(tenant_id, data.finding_id)
            if finding is None:
                raise NotFound(f"Finding {data.finding_id} not found.")
            connection = await self.uow.session.get(Connection, (tenant_id, finding.connection_id))
            platform = connection.platform.value if connection is not None else None
            author_id = finding.author_id
        key = tombstone_key(self.settings.secret_key, tenant_id)
        row = ErasureRequest(
            tenant_id=tenant_id,
            platform=platform,
            author_ref=ref(key, platform, author_id) if platform and author_id else None,
            author_id_ciphertext=(
                self.cipher.encrypt_text(author_id, tenant_id=tenant_id, purpose=AUTHOR_ID_PURPOSE)
                if author_id
                else None
            ),
            finding_id=data.finding_id,
            delete_on_platform=data.delete_on_platform,
            status=ErasureStatus.PENDING,
            counts={},
            attempts=0,
            requested_by=principal.actor,
        )
        self.requests.add(row)
        await self.uow.session.flush()
        record(
            self.uow,
            tenant_id,
            actor=principal.actor,
            action="erasure.requested",
            subject_type="erasure_request",
            subject_id=row.id,
            data={
                "by": "finding" if data.finding_id else "author",
                "finding_id": str(data.finding_id) if data.finding_id else None,
                "delete_on_platform": data.delete_on_platform,
            },
        )
        self.uow.jobs.add(queue.erase_subject(tenant_id, row.id))
        return request_schema(row)

    async def get(self, principal: Principal, request_id: uuid.UUID) -> schemas.ErasureRequest:
        _tenant_wide(principal)
        row = await self.requests.get(principal.tenant_id, request_id)
        if row is None:
            raise NotFound(f"Erasure request {request_id} not found.")
        return request_schema(row)

    async def list(
        self, principal: Principal, *, cursor: str | None, limit: int
    ) -> schemas.ErasureRequestList:
        _tenant_wide(principal)
        rows, next_cursor = await self.requests.list(
            principal.tenant_id, cursor=cursor, limit=limit
        )
        return schemas.ErasureRequestList(
            items=[request_schema(r) for r in rows], next_cursor=next_cursor
        )


class SubjectAccessService:
    def __init__(self, uow: UnitOfWork, settings: Settings, cipher: Cipher) -> None:
        self.uow = uow
        self.settings = settings
        self.cipher = cipher
        self.subjects = SubjectRepository(uow.session)

    async def get(
        self, principal: Principal, platform: Platform, author_id: str
    ) -> schemas.SubjectData:
        _tenant_wide(principal)
        tenant_id = principal.tenant_id
        key = tombstone_key(self.settings.secret_key, tenant_id)
        author_ref = ref(key, platform.value, author_id)
        findings = await self.subjects.findings(
            tenant_id,
            platform=platform.value,
            author_id=author_id,
            finding_id=None,
            limit=SUBJECT_FINDINGS_LIMIT + 1,
        )
        events = await self.subjects.inbox_events(tenant_id, platform.value, author_id)
        comments = [(f.connection_id, f.comment_id) for f in findings]
        comments += [(cid, oid) for _, cid, oid in events if oid]
        requests = await ErasureRequestRepository(self.uow.session).for_author(
            tenant_id, author_ref
        )
        return schemas.SubjectData(
            platform=platform,
            author_ref=author_ref,
            erased=bool(requests),
            findings=[
                schemas.SubjectFinding(
                    id=f.id,
                    client_id=f.client_id,
                    connection_id=f.connection_id,
                    comment_id=f.comment_id,
                    permalink_url=f.permalink_url,
                    types=list(f.types),  # type: ignore[arg-type]
                    entities=[
                        schemas.SubjectEntity(type=e["type"], masked=e["masked"])
                        for e in f.entities
                    ],
                    masked_excerpt=self.cipher.decrypt_text(
                        f.masked_excerpt_ciphertext, tenant_id=tenant_id, purpose=EXCERPT_PURPOSE
                    ),
                    status=f.status,
                    received_at=f.received_at,
                )
                for f in findings[:SUBJECT_FINDINGS_LIMIT]
            ],
            truncated=len(findings) > SUBJECT_FINDINGS_LIMIT,
            inbox_events=len(events),
            moderation_actions=await self.subjects.count_actions(tenant_id, list(set(comments))),
            erasure_requests=list(requests),
        )


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


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
        if request is None or request.status is ErasureStatus.COMPLETED:
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
