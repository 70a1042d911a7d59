"""Rows of every kind the purge handles, written directly (no platform needed)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.crypto import Cipher
from service.db import Database, utcnow
from service.findings.models import EXCERPT_PURPOSE, Finding, FindingSource, FindingStatus
from service.inbox.models import PAYLOAD_PURPOSE, InboxEvent, InboxStatus
from service.moderation.models import ActionKind, ActionStatus, ModerationAction
from service.responses.models import TrackedComment
from service.scanning.models import Scan, ScanStatus
from service.storms.models import Storm, StormStatus
from service.tenancy.models import Client


class Page(msgspec.Struct, kw_only=True):
    tenant_id: TenantId
    client_id: uuid.UUID
    connection_id: uuid.UUID


async def add_page(db: Database, tenant_id: TenantId, name: str | None = None) -> Page:
    async with db.unit_of_work(tenant_id) as uow:
        client = Client(tenant_id=tenant_id, name=name or f"client-{uuid.uuid4().hex[:8]}")
        uow.session.add(client)
        await uow.session.flush()
        connection = Connection(
            tenant_id=tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id=f"page-{uuid.uuid4().hex[:12]}",
            name="Page",
            status=ConnectionStatus.ACTIVE,
            tasks=["MODERATE"],
        )
        uow.session.add(connection)
        await uow.session.flush()
        return Page(tenant_id=tenant_id, client_id=client.id, connection_id=connection.id)


async def add_records(
    db: Database,
    cipher: Cipher,
    page: Page,
    *,
    count: int = 3,
    author_id: str = "5000000000000001",
    at: dt.datetime | None = None,
) -> list[uuid.UUID]:
    """``count`` findings (each with a done hide action, a processed inbox event whose payload
    is still there and a tracked comment), a completed scan and an ended storm, all received at
    ``at`` (now by default)."""
    at = at or utcnow()
    tenant_id = page.tenant_id
    ids: list[uuid.UUID] = []
    async with db.unit_of_work(tenant_id) as uow:
        for _ in range(count):
            comment_id = f"{uuid.uuid4().int % 10**15}_{uuid.uuid4().int % 10**15}"
            finding = Finding(
                tenant_id=tenant_id,
                connection_id=page.connection_id,
                client_id=page.client_id,
                comment_id=comment_id,
                post_id="1_2",
                parent_id="1_2",
                author_id=author_id,
                by_page=False,
                types=["PHONE_NUMBER"],
                entities=[
                    {"type": "PHONE_NUMBER", "start": 0, "end": 8, "score": 0.9, "masked": "••78"}
                ],
                masked_excerpt_ciphertext=cipher.encrypt_text(
                    "ring ••78", tenant_id=tenant_id, purpose=EXCERPT_PURPOSE
                ),
                fingerprints=["ab" * 32],
                max_score=0.9,
                status=FindingStatus.HIDDEN,
                source=FindingSource.REALTIME,
                received_at=at,
            )
            uow.session.add(finding)
            await uow.session.flush()
            ids.append(finding.id)
            uow.session.add(
                ModerationAction(
                    tenant_id=tenant_id,
                    connection_id=page.connection_id,
                    finding_id=finding.id,
                    comment_id=comment_id,
                    kind=ActionKind.HIDE,
                    status=ActionStatus.DONE,
                    attempts=1,
                    requested_by="system:pipeline",
                    done_at=at,
                )
            )
            uow.session.add(tracked_comment(page, comment_id, at))
            uow.session.add(
                InboxEvent(
                    tenant_id=tenant_id,
                    connection_id=page.connection_id,
                    field="feed",
                    item="comment",
                    verb="add",
                    object_id=comment_id,
                    post_id="1_2",
                    parent_id="1_2",
                    sender_id=author_id,
                    dedupe_key=uuid.uuid4().hex,
                    payload_ciphertext=cipher.encrypt(
                        b'{"value": {}}', tenant_id=tenant_id, purpose=PAYLOAD_PURPOSE
                    ),
                    status=InboxStatus.DONE,
                    attempts=1,
                    received_at=at,
                    processed_at=at,
                )
            )
        uow.session.add(ended_storm(page, at))
        uow.session.add(
            Scan(
                tenant_id=tenant_id,
                connection_id=page.connection_id,
                status=ScanStatus.COMPLETED,
                checkpoint={},
                requested_by="test",
                started_at=at,
                finished_at=at,
            )
        )
    return ids


def tracked_comment(page: Page, comment_id: str, at: dt.datetime) -> TrackedComment:
    """A customer's comment still waiting for the page's first reply."""
    return TrackedComment(
        tenant_id=page.tenant_id,
        connection_id=page.connection_id,
        client_id=page.client_id,
        comment_id=comment_id,
        post_id="1_2",
        thread_id=comment_id,
        by_page=False,
        commented_at=at,
        received_at=at,
        processed=True,
    )


def ended_storm(page: Page, at: dt.datetime, status: StormStatus = StormStatus.ENDED) -> Storm:
    return Storm(
        tenant_id=page.tenant_id,
        connection_id=page.connection_id,
        client_id=page.client_id,
        status=status,
        started_at=at,
        detected_at=at,
        last_elevated_at=at,
        ended_at=at if status is StormStatus.ENDED else None,
        baseline_per_minute=1.0,
        rate_per_minute=40.0,
        peak_per_minute=55.0,
        comments=900,
        posts=[{"post_id": "1_2", "comments": 900}],
    )
