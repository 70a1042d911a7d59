"""Reading findings and the two human decisions on them: restore (unhide) and confirm."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from service import queue as jobs
from service.audit.service import record
from service.auth.types import Principal, TenantId
from service.connections.models import Platform
from service.connections.repository import ConnectionRepository
from service.crypto import Cipher
from service.db import UnitOfWork, utcnow
from service.detection import EntityType
from service.errors import Conflict, NotFound
from service.findings import schemas
from service.findings.models import EXCERPT_PURPOSE, Finding, FindingStatus
from service.findings.repository import FindingRepository
from service.moderation.models import ActionKind, ActionStatus
from service.moderation.repository import ActionRepository
from service.moderation.schemas import ModerationAction
from service.structs import to_schema
from service.webhooks.events import EventType, FindingEventData, WebhookEntity
from service.webhooks.service import api_url, emit


def finding_schema(row: Finding, cipher: Cipher) -> schemas.Finding:
    values = {
        name: getattr(row, name)
        for name in schemas.Finding.__struct_fields__
        if name != "masked_excerpt"
    }
    values["masked_excerpt"] = cipher.decrypt_text(
        row.masked_excerpt_ciphertext, tenant_id=row.tenant_id, purpose=EXCERPT_PURPOSE
    )
    return msgspec.convert(values, schemas.Finding)


def _field(source: Finding | Mapping[str, Any], name: str) -> Any:
    return source[name] if isinstance(source, Mapping) else getattr(source, name)


def emit_finding_event(
    uow: UnitOfWork,
    event_type: EventType,
    finding_id: uuid.UUID,
    finding: Finding | Mapping[str, Any],
    *,
    tenant_id: TenantId,
    platform: Platform,
) -> None:
    """finding.created (``finding`` may be the row just inserted, as a mapping) or
    finding.confirmed."""
    client_id = _field(finding, "client_id")
    emit(
        uow,
        tenant_id,
        event_type,
        FindingEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=_field(finding, "connection_id"),
            finding_id=finding_id,
            scan_id=_field(finding, "scan_id"),
            platform=platform,
            post_id=_field(finding, "post_id"),
            comment_id=_field(finding, "comment_id"),
            permalink_url=_field(finding, "permalink_url"),
            by_page=_field(finding, "by_page"),
            types=list(_field(finding, "types")),
            entities=[
                WebhookEntity(type=e["type"], score=e["score"], masked=e["masked"])
                for e in _field(finding, "entities")
            ],
            max_score=_field(finding, "max_score"),
            status=_field(finding, "status"),
            source=_field(finding, "source"),
            comment_created_at=_field(finding, "comment_created_at"),
            received_at=_field(finding, "received_at"),
            hidden_at=_field(finding, "hidden_at"),
            reviewed_at=(None if isinstance(finding, Mapping) else finding.reviewed_at),
            url=api_url(uow.public_url, f"/v1/findings/{finding_id}"),
        ),
        client_id=client_id,
    )


class FindingService:
    def __init__(self, uow: UnitOfWork, cipher: Cipher) -> None:
        self.uow = uow
        self.cipher = cipher
        self.findings = FindingRepository(uow.session)
        self.actions = ActionRepository(uow.session)

    async def _load(
        self, principal: Principal, finding_id: uuid.UUID, *, lock: bool = False
    ) -> Finding:
        finding = await (
            self.findings.lock(principal.tenant_id, finding_id)
            if lock
            else self.findings.get(principal.tenant_id, finding_id)
        )
        if finding is None or (
            principal.client_id is not None and finding.client_id != principal.client_id
        ):
            raise NotFound(f"Finding {finding_id} not found.")
        return finding

    async def list(
        self,
        principal: Principal,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        type_: EntityType | None,
        status: FindingStatus | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.FindingList:
        if principal.client_id is not None:
            if client_id is not None and client_id != principal.client_id:
                return schemas.FindingList(items=[], next_cursor=None)
            client_id = principal.client_id
        rows, next_cursor = await self.findings.list(
            principal.tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            type_=type_.value if type_ is not None else None,
            status=status,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )
        return schemas.FindingList(
            items=[finding_schema(r, self.cipher) for r in rows], next_cursor=next_cursor
        )

    async def get(self, principal: Principal, finding_id: uuid.UUID) -> schemas.Finding:
        return finding_schema(await self._load(principal, finding_id), self.cipher)

    async def unhide(self, principal: Principal, finding_id: uuid.UUID) -> schemas.UnhideAccepted:
        """Restore a comment Wallguard hid by mistake. Recorded as an unhide action (one per
        comment) and performed by the worker; asking again changes nothing."""
        tenant_id = principal.tenant_id
        found = await self._load(principal, finding_id)
        # Actions first, then the finding: the order a worker performing one locks them in.
        existing = await self.actions.for_comment(
            tenant_id, found.connection_id, found.comment_id, lock=True
        )
        finding = await self._load(principal, finding_id, lock=True)
        hide = existing.get(ActionKind.HIDE)
        if hide is None:
            raise Conflict("Wallguard did not hide this comment, so there is nothing to restore.")
        for kind in (ActionKind.HIDE, ActionKind.REPLY):
            pending = existing.get(kind)
            if pending is not None and pending.status is ActionStatus.PENDING:
                # Not yet performed: it must not happen after the restore.
                pending.status = ActionStatus.FAILED
                pending.last_error = "cancelled: the finding was restored (unhide requested)"
        action, created = await self.actions.ensure(
            tenant_id,
            connection_id=finding.connection_id,
            finding_id=finding.id,
            comment_id=finding.comment_id,
            kind=ActionKind.UNHIDE,
            requested_by=principal.actor,
        )
        retry = not created and action.status is ActionStatus.FAILED
        if retry:
            action.status = ActionStatus.PENDING
            action.last_error = None
        if created or retry:
            finding.reviewed_at = utcnow()
            finding.reviewed_by = principal.actor
            record(
                self.uow,
                tenant_id,
                actor=principal.actor,
                action="finding.unhide_requested",
                subject_type="finding",
                subject_id=finding.id,
                data={"action_id": str(action.id), "previous_status": finding.status.value},
            )
        if action.status is ActionStatus.PENDING:
            self.uow.jobs.add(jobs.execute_action(tenant_id, action.id))
        await self.uow.session.flush()
        return schemas.UnhideAccepted(
            finding=finding_schema(finding, self.cipher), action=to_schema(action, ModerationAction)
        )

    async def confirm(self, principal: Principal, finding_id: uuid.UUID) -> schemas.Finding:
        """Mark the finding reviewed and right. Idempotent; a restored finding cannot be."""
        finding = await self._load(principal, finding_id, lock=True)
        if finding.status is FindingStatus.CONFIRMED:
            return finding_schema(finding, self.cipher)
        if finding.status is FindingStatus.UNHIDDEN:
            raise Conflict("This finding was restored (unhidden) and cannot be confirmed.")
        previous = finding.status
        finding.status = FindingStatus.CONFIRMED
        finding.reviewed_at = utcnow()
        finding.reviewed_by = principal.actor
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="finding.confirmed",
            subject_type="finding",
            subject_id=finding.id,
            data={"previous_status": previous.value},
        )
        connection = await ConnectionRepository(self.uow.session).get(
            principal.tenant_id, finding.connection_id
        )
        if connection is not None:
            emit_finding_event(
                self.uow,
                EventType.FINDING_CONFIRMED,
                finding.id,
                finding,
                tenant_id=principal.tenant_id,
                platform=connection.platform,
            )
        await self.uow.session.flush()
        return finding_schema(finding, self.cipher)
