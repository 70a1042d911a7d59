"""Erasure requests (art. 17) and subject access (art. 15): what the API offers.

``ErasureService`` records a request and queues the ``erase_subject`` job, whose step is
``service.erasure.steps.run_erasure``; ``SubjectAccessService`` lists what is held about an
author, masked. What the job does, in this order, each part safe to repeat after a crash:

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

import uuid

from service import queue
from service.audit.service import record
from service.auth.types import Principal
from service.connections.models import Connection, Platform
from service.crypto import Cipher
from service.db import UnitOfWork
from service.erasure import schemas
from service.erasure.models import (
    AUTHOR_ID_PURPOSE,
    ErasureRequest,
    ErasureStatus,
)
from service.erasure.repository import ErasureRequestRepository, SubjectRepository
from service.erasure.tombstones import ref, tombstone_key
from service.errors import FieldError, Forbidden, NotFound, ValidationFailed
from service.findings.models import EXCERPT_PURPOSE
from service.findings.repository import FindingRepository
from service.settings import Settings

SUBJECT_FINDINGS_LIMIT = 500


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
