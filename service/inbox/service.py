"""Accepting platform webhook deliveries: verify, store durably (encrypted), then acknowledge.

Meta retries a delivery that is not answered 200 quickly, and may deliver the same change more
than once; the inbox row is written and committed before the 200, and its dedupe key makes a
redelivery a no-op. Processing happens in the worker (service/workers/realtime.py).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from typing import Any

import msgspec
import structlog
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.crypto import Cipher
from service.db import Database, utcnow
from service.errors import BadRequest, Unauthorized
from service.ids import new_id
from service.inbox.models import InboxEvent, InboxStatus
from service.platforms.signatures import verify_signature

log = structlog.get_logger(__name__)

PAYLOAD_PURPOSE = "inbox_event"
PROCESS_INBOX_EVENT_JOB = "process_inbox_event"


def inbox_job_id(event_id: uuid.UUID | str) -> str:
    # One job per event: arq drops a second enqueue while the first is queued or kept.
    return f"inbox:{event_id}"


class _Change(msgspec.Struct):
    field: str
    value: dict[str, Any] = msgspec.field(default_factory=dict)


class _Entry(msgspec.Struct):
    id: str
    time: int | None = None
    changes: list[_Change] = msgspec.field(default_factory=list)


class _Delivery(msgspec.Struct):
    object: str
    entry: list[_Entry] = msgspec.field(default_factory=list)


class Accepted(msgspec.Struct, kw_only=True):
    changes: int
    stored: int
    duplicates: int
    unrouted: int


def _platform_of(delivery_object: str) -> Platform | None:
    return {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}.get(delivery_object)


def _ids(value: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(object id, post id, parent id, sender id) of a feed or Instagram comments change."""
    sender = value.get("from")
    sender_id = str(sender.get("id")) if isinstance(sender, dict) and sender.get("id") else None
    object_id = value.get("comment_id") or value.get("post_id") or value.get("id")
    media = value.get("media")
    post_id = value.get("post_id") or (media.get("id") if isinstance(media, dict) else None)
    parent_id = value.get("parent_id")
    return (
        str(object_id) if object_id else None,
        str(post_id) if post_id else None,
        str(parent_id) if parent_id else None,
        sender_id,
    )


def dedupe_key(entry_id: str, change: _Change) -> str:
    value = change.value
    identity = msgspec.json.encode(
        [
            entry_id,
            change.field,
            value.get("item"),
            value.get("verb"),
            value.get("comment_id") or value.get("id") or value.get("post_id"),
            value.get("created_time"),
            value.get("message") if value.get("verb") == "edited" else None,
        ]
    )
    return hashlib.sha256(identity).hexdigest()


async def accept_delivery(
    db: Database, cipher: Cipher, app_secret: str, raw_body: bytes, signature: str | None
) -> Accepted:
    if not app_secret or not verify_signature(app_secret, raw_body, signature or ""):
        raise Unauthorized("The X-Hub-Signature-256 header does not match the body.")
    try:
        delivery = msgspec.json.decode(raw_body, type=_Delivery)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The webhook body is not a Meta delivery: {exc}") from None
    platform = _platform_of(delivery.object)
    changes = [(entry, change) for entry in delivery.entry for change in entry.changes]
    if platform is None or not changes:
        return Accepted(changes=len(changes), stored=0, duplicates=0, unrouted=len(changes))

    page_ids = sorted({entry.id for entry, _ in changes})
    async with db.system_unit_of_work() as uow:
        connections = await ConnectionRepository(uow.session).route(platform, page_ids)
    by_page: dict[str, list[tuple[TenantId, Any]]] = defaultdict(list)
    for c in connections:
        if c.status is not ConnectionStatus.REVOKED:
            by_page[c.external_id].append((TenantId(c.tenant_id), c.id))

    received_at = utcnow()
    stored = duplicates = unrouted = 0
    by_tenant: dict[TenantId, list[tuple[Any, _Entry, _Change]]] = defaultdict(list)
    for entry, change in changes:
        targets = by_page.get(entry.id)
        if not targets:
            unrouted += 1  # nobody connected this page: acknowledged and dropped
            continue
        for tenant_id, connection_id in targets:
            by_tenant[tenant_id].append((connection_id, entry, change))

    for tenant_id, items in by_tenant.items():
        async with db.unit_of_work(tenant_id) as uow:
            for connection_id, entry, change in items:
                object_id, post_id, parent_id, sender_id = _ids(change.value)
                event_id = new_id()
                payload = msgspec.json.encode(
                    {
                        "entry_id": entry.id,
                        "time": entry.time,
                        "field": change.field,
                        "value": change.value,
                    }
                )
                result = await uow.session.execute(
                    insert(InboxEvent)
                    .values(
                        tenant_id=tenant_id,
                        id=event_id,
                        connection_id=connection_id,
                        field=change.field[:32],
                        item=_short(change.value.get("item")),
                        verb=_short(change.value.get("verb")),
                        object_id=object_id,
                        post_id=post_id,
                        parent_id=parent_id,
                        sender_id=sender_id,
                        dedupe_key=dedupe_key(entry.id, change),
                        payload_ciphertext=cipher.encrypt(
                            payload, tenant_id=tenant_id, purpose=PAYLOAD_PURPOSE
                        ),
                        status=InboxStatus.PENDING,
                        attempts=0,
                        received_at=received_at,
                    )
                    .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
                    .returning(InboxEvent.id)
                )
                if result.scalar_one_or_none() is None:
                    duplicates += 1
                    continue
                stored += 1
                uow.jobs.add(
                    PROCESS_INBOX_EVENT_JOB,
                    str(tenant_id),
                    str(event_id),
                    job_id=inbox_job_id(event_id),
                )
            await uow.session.execute(
                update(Connection)
                .where(
                    Connection.tenant_id == tenant_id,
                    Connection.id.in_({connection_id for connection_id, _, _ in items}),
                )
                .values(last_event_at=received_at)
            )
    log.info(
        "webhook_accepted",
        changes=len(changes),
        stored=stored,
        duplicates=duplicates,
        unrouted=unrouted,
    )
    return Accepted(changes=len(changes), stored=stored, duplicates=duplicates, unrouted=unrouted)


def _short(value: Any) -> str | None:
    return str(value)[:32] if value is not None else None
