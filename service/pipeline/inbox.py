"""The way in: a webhook delivery, stored as inbox rows, each routed to ``handle_comment``.

``accept_delivery`` runs in the API's request (``POST /webhooks/meta``): it verifies and decodes
the delivery, routes each change to every connection of its page (a system unit of work: the
page id names no tenant yet), and stores one encrypted inbox row per (change, connection) in
that tenant's unit of work, which commits before Meta gets its 200 and then sends one
``process_inbox_event`` job per new row.

``process_event`` is that job's body: one stored event, in one unit of work, skipped or turned
into a comment (fetched from the platform when the event lacks its text) and handed to
``handle_comments``, together with the connection's other pending comments no worker holds (a
backlog, up to ``REALTIME_BATCH``). The caller performs the actions recorded once it has
committed. A page ``hide`` event makes the comment's finding follow the platform at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import msgspec
import structlog

from service import queue as jobs
from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.connections.errors import NoPageToken
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.crypto import Cipher
from service.db import Database, UnitOfWork, utcnow
from service.erasure.tombstones import erased_comments
from service.findings.models import FindingSource, FindingStatus
from service.findings.repository import FindingRepository
from service.ids import new_id
from service.inbox.models import PAYLOAD_PURPOSE, InboxEvent, InboxStatus
from service.inbox.repository import InboxRepository
from service.inbox.schemas import Accepted, Change, Entry
from service.inbox.service import change_ids, dedupe_key, parse_delivery, platform_of, short
from service.moderation.models import ActionKind, ActionStatus
from service.moderation.repository import ActionRepository
from service.moderation.service import ACTOR, backoff, describe
from service.pipeline.comments import CommentView, HandleOutcome, comment_view, handle_comments
from service.pipeline.context import PipelineContext
from service.platforms import errors as platform
from service.platforms.graph import parse_graph_time
from service.platforms.schemas import Comment, IgComment

log = structlog.get_logger(__name__)


async def accept_delivery(
    db: Database,
    cipher: Cipher,
    app_secret: str,
    raw_body: bytes,
    signature: str | None,
    *,
    secret_key: str,
) -> Accepted:
    """Verify a delivery and store each change once per connection watching its page, committed
    before the caller answers Meta; one ``process_inbox_event`` job per new row. ``secret_key``
    keys the erasure tombstones: a change from an erased author, or about an erased comment, is
    acknowledged and dropped without being stored."""
    delivery = parse_delivery(app_secret, raw_body, signature)
    platform_kind = platform_of(delivery.object)
    changes = [(entry, change) for entry in delivery.entry for change in entry.changes]
    if platform_kind is None or not changes:
        return Accepted(changes=len(changes), stored=0, duplicates=0, unrouted=len(changes))

    page_ids = sorted({entry.id for entry, _ in changes})
    async with db.system_unit_of_work() as uow:
        connections = await ConnectionRepository(uow.session).route(platform_kind, page_ids)
    by_page: dict[str, list[tuple[TenantId, uuid.UUID]]] = defaultdict(list)
    for c in connections:
        if c.status is not ConnectionStatus.REVOKED:
            by_page[c.external_id].append((system_tenant(c.tenant_id), c.id))

    received_at = utcnow()
    stored = duplicates = unrouted = erased = 0
    by_tenant: dict[TenantId, list[tuple[uuid.UUID, Entry, Change]]] = defaultdict(list)
    for entry, change in changes:
        targets = by_page.get(entry.id)
        if not targets:
            unrouted += 1  # nobody connected this page: acknowledged and dropped
            continue
        for tenant_id, connection_id in targets:
            by_tenant[tenant_id].append((connection_id, entry, change))

    for tenant_id, items in by_tenant.items():
        async with db.unit_of_work(tenant_id) as uow:
            inbox = InboxRepository(uow.session)
            ids = [change_ids(change.value) for _, _, change in items]
            # Erased stays erased: a change by an erased author or about an erased comment is
            # acknowledged and dropped here, before its text is stored (service/erasure).
            skip = await erased_comments(
                uow.session,
                tenant_id,
                secret_key,
                platform_kind.value,
                [(object_id, sender_id) for object_id, _, _, sender_id in ids if object_id],
            )
            for (connection_id, entry, change), (object_id, post_id, parent_id, sender_id) in zip(
                items, ids, strict=True
            ):
                if object_id in skip:
                    erased += 1
                    continue
                event_id = new_id()
                payload = msgspec.json.encode(
                    {
                        "entry_id": entry.id,
                        "time": entry.time,
                        "field": change.field,
                        "value": change.value,
                    }
                )
                new = await inbox.store(
                    tenant_id,
                    event_id,
                    connection_id=connection_id,
                    field=change.field[:32],
                    item=short(change.value.get("item")),
                    verb=short(change.value.get("verb")),
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
                if not new:
                    duplicates += 1
                    continue
                stored += 1
                uow.jobs.add(jobs.process_inbox_event(tenant_id, event_id))
            await ConnectionRepository(uow.session).touch_events(
                tenant_id, {connection_id for connection_id, _, _ in items}, received_at
            )
    log.info(
        "webhook_accepted",
        changes=len(changes),
        stored=stored,
        duplicates=duplicates,
        unrouted=unrouted,
        erased=erased,
    )
    return Accepted(
        changes=len(changes),
        stored=stored,
        duplicates=duplicates,
        unrouted=unrouted,
        erased=erased,
    )


# --- one stored event --------------------------------------------------------------------------


class EventOutcome(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # done | skipped | busy | waiting | retry | failed | not_pending
    reason: str | None = None
    retry_after: float | None = None
    # This event's comment.
    handled: HandleOutcome | None = None
    # The pending actions of every event handled with it, to perform after the commit.
    action_ids: tuple[uuid.UUID, ...] = ()
    fresh_action_ids: tuple[uuid.UUID, ...] = ()
    # Events handled in this unit of work (this one and the backlog it took along).
    events: int = 0


# Events one job handles at most: under load, the first job to run takes the connection's
# backlog along (one transaction, one detection pass, one audit append and one Graph batch
# for its hides), the way a backfill page goes; with no backlog it is just its own event.
REALTIME_BATCH = 50


def comment_from_payload(event: InboxEvent, value: dict[str, Any]) -> CommentView | None:
    """The comment an event carries, or None when the change is not a new or edited comment."""
    sender = value.get("from") if isinstance(value.get("from"), dict) else {}
    if event.field == "feed":
        if event.item != "comment" or event.verb not in {"add", "edited"}:
            return None
        message = value.get("message")
        return CommentView(
            comment_id=str(value.get("comment_id") or event.object_id or ""),
            post_id=event.post_id,
            parent_id=event.parent_id,
            message=message if isinstance(message, str) else None,
            author_id=event.sender_id,
            created_time=_time(value.get("created_time")),
            permalink_url=None,
        )
    if event.field == "comments":  # Instagram
        if event.verb not in {None, "add", "edited"}:
            return None
        text = value.get("text")
        return CommentView(
            comment_id=str(value.get("id") or event.object_id or ""),
            post_id=event.post_id,
            parent_id=event.parent_id,
            message=text if isinstance(text, str) else None,
            author_id=str(sender.get("id")) if sender and sender.get("id") else event.sender_id,
            created_time=_time(value.get("created_time") or value.get("timestamp")),
            permalink_url=None,
        )
    return None


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_graph_time(str(value))
    except ValueError:
        return None


async def fetch_comment(
    pctx: PipelineContext, connection: Connection, comment: CommentView
) -> CommentView | None:
    """What the event lacks (a Facebook event without its message) from the platform."""
    token = page_token(pctx.cipher, connection)
    try:
        fetched: Comment | IgComment = (
            await pctx.graph.get_ig_comment(comment.comment_id, token)
            if connection.platform is Platform.INSTAGRAM
            else await pctx.graph.get_comment(comment.comment_id, token)
        )
    except platform.PlatformNotFound:
        return None
    view = comment_view(fetched, post_id=comment.post_id)
    return msgspec.structs.replace(
        view,
        parent_id=fetched.parent_id or comment.parent_id or view.parent_id,
        author_id=view.author_id or comment.author_id,
        created_time=view.created_time or comment.created_time,
    )


async def process_event(
    pctx: PipelineContext,
    tenant_id: TenantId,
    event_id: uuid.UUID,
    *,
    batch_size: int = REALTIME_BATCH,
) -> EventOutcome:
    """One inbox event, in one unit of work: skip it, or hand its comment to
    ``handle_comments``, with up to ``batch_size - 1`` other pending comments of the same
    connection (a backlog). The caller performs ``outcome.action_ids`` after this returns
    (committed)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        event = await InboxRepository(uow.session).lock(tenant_id, event_id)
        if event is None:
            exists = await InboxRepository(uow.session).get(tenant_id, event_id)
            return EventOutcome(status="busy" if exists is not None else "not_pending")
        if event.status is not InboxStatus.PENDING:
            return EventOutcome(status="not_pending")
        connection = await ConnectionRepository(uow.session).get(tenant_id, event.connection_id)
        if connection is None:
            return EventOutcome(status="not_pending")
        if connection.status is ConnectionStatus.NEEDS_REAUTH:
            # Left pending: once the page is re-authorised, reconcile sends it again.
            event.last_error = "waiting for the connection to be re-authorised"
            return EventOutcome(status="waiting", reason="needs_reauth")
        if connection.status is not ConnectionStatus.ACTIVE:
            return _finish(event, InboxStatus.SKIPPED, f"connection {connection.status.value}")
        if event.payload_ciphertext is None:  # cleared: nothing left to process
            return _finish(event, InboxStatus.SKIPPED, "the payload was already cleared")
        payload = msgspec.json.decode(
            pctx.cipher.decrypt(
                event.payload_ciphertext, tenant_id=tenant_id, purpose=PAYLOAD_PURPOSE
            )
        )
        value = payload.get("value") if isinstance(payload, dict) else None
        if event.field == "feed" and event.item == "comment" and event.verb == "hide":
            # The comment is hidden on the platform (by our own call, whose result is not
            # recorded yet, or by a moderator): the finding follows at once.
            followed = await follow_platform_hide(uow, connection, event.object_id or "")
            return _finish(event, InboxStatus.DONE if followed else InboxStatus.SKIPPED, None)
        comment = comment_from_payload(event, value if isinstance(value, dict) else {})
        if comment is None or not comment.comment_id:
            return _finish(
                event,
                InboxStatus.SKIPPED,
                f"not a new or edited comment ({event.item}/{event.verb})",
            )
        event.attempts += 1
        if comment.message is None:
            try:
                fetched = await fetch_comment(pctx, connection, comment)
            except (platform.TokenInvalid, NoPageToken):
                await mark_needs_reauth(
                    uow, connection, "the platform refused the page token", ACTOR
                )
                event.last_error = "waiting for the connection to be re-authorised"
                return EventOutcome(status="waiting", reason="needs_reauth")
            except platform.RateLimited as exc:
                return _retry(pctx, event, exc, exc.retry_after)
            except platform.PlatformUnavailable as exc:
                return _retry(pctx, event, exc, backoff(event.attempts))
            except platform.PlatformError as exc:
                return _finish(event, InboxStatus.FAILED, describe(exc))
            if fetched is None:
                return _finish(event, InboxStatus.SKIPPED, "the comment no longer exists")
            comment = fetched
        batch = [(event, comment)]
        if comment.message is not None and batch_size > 1:
            batch.extend(await _backlog(pctx, uow, event, batch_size - 1))
        outcomes = await handle_comments(
            pctx,
            uow,
            connection,
            [c for _, c in batch],
            source=FindingSource.REALTIME,
            received_at=event.received_at,
            received_ats=[e.received_at for e, _ in batch],
        )
        for done, _ in batch:
            _finish(done, InboxStatus.DONE, None)
    action_ids = list(dict.fromkeys(a for o in outcomes for a in o.action_ids))
    fresh = tuple(dict.fromkeys(a for o in outcomes for a in o.fresh_action_ids))
    return EventOutcome(
        status=InboxStatus.DONE.value,
        handled=outcomes[0],
        action_ids=tuple(action_ids),
        fresh_action_ids=fresh,
        events=len(batch),
    )


async def _backlog(
    pctx: PipelineContext, uow: UnitOfWork, event: InboxEvent, limit: int
) -> list[tuple[InboxEvent, CommentView]]:
    """Other pending comments of the event's connection that carry their text, locked. Those
    that need a platform read first are left to their own jobs."""
    taken: list[tuple[InboxEvent, CommentView]] = []
    others = await InboxRepository(uow.session).lock_ready(
        uow.tenant, event.connection_id, exclude=event.id, limit=limit
    )
    for other in others:
        if other.payload_ciphertext is None:
            continue  # cleared: its own job skips it
        payload = msgspec.json.decode(
            pctx.cipher.decrypt(
                other.payload_ciphertext, tenant_id=uow.tenant, purpose=PAYLOAD_PURPOSE
            )
        )
        value = payload.get("value") if isinstance(payload, dict) else None
        view = comment_from_payload(other, value if isinstance(value, dict) else {})
        if view is None or not view.comment_id or view.message is None:
            continue
        other.attempts += 1
        taken.append((other, view))
    return taken


def _finish(event: InboxEvent, status: InboxStatus, reason: str | None) -> EventOutcome:
    event.status = status
    event.last_error = reason
    event.processed_at = utcnow()
    # The payload holds the comment text: once the event is settled nothing needs it.
    event.payload_ciphertext = None
    return EventOutcome(status=status.value, reason=reason)


def _retry(
    pctx: PipelineContext, event: InboxEvent, exc: platform.PlatformError, delay: float
) -> EventOutcome:
    if event.attempts >= pctx.config.max_attempts:
        return _finish(event, InboxStatus.FAILED, f"gave up: {describe(exc)}")
    event.last_error = describe(exc)
    return EventOutcome(
        status="retry",
        reason=event.last_error,
        retry_after=min(max(delay, 1.0), pctx.config.max_defer_seconds),
    )


async def follow_platform_hide(uow: UnitOfWork, connection: Connection, comment_id: str) -> bool:
    """The platform says the comment is hidden: its hide action is done and its finding hidden,
    unless a worker holds the action right now (it is performing it and records the result
    itself). Returns whether anything changed."""
    if not comment_id:
        return False
    tenant_id = uow.tenant
    actions = ActionRepository(uow.session)
    hide = (await actions.for_comment(tenant_id, connection.id, comment_id)).get(ActionKind.HIDE)
    if hide is None or hide.status is ActionStatus.DONE:
        return False
    locked = (await actions.lock_many(tenant_id, [hide.id])).get(hide.id)
    if locked is None or locked.status is ActionStatus.DONE:
        return False
    finding = (
        (await FindingRepository(uow.session).lock_many(tenant_id, [locked.finding_id])).get(
            locked.finding_id
        )
        if locked.finding_id is not None
        else None
    )
    now = utcnow()
    locked.status = ActionStatus.DONE
    locked.done_at = now
    locked.last_error = None
    if finding is not None and finding.status in {
        FindingStatus.PENDING_HIDE,
        FindingStatus.HIDE_FAILED,
    }:
        finding.status = FindingStatus.HIDDEN
        finding.hidden_at = now
    record(
        uow,
        tenant_id,
        actor=ACTOR,
        action="comment.hidden",
        subject_type="finding" if finding is not None else "comment",
        subject_id=finding.id if finding is not None else comment_id,
        data={
            "action_id": str(locked.id),
            "comment_id": comment_id,
            "connection_id": str(connection.id),
            "already": True,
        },
    )
    return True


async def record_event_failure(
    pctx: PipelineContext, tenant_id: TenantId, event_id: uuid.UUID, error: str
) -> None:
    """An unexpected error: count the attempt; after too many, the event fails for good (so a
    poison event is not sent again forever by reconcile)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        event = await InboxRepository(uow.session).lock(tenant_id, event_id)
        if event is None or event.status is not InboxStatus.PENDING:
            return
        event.attempts += 1
        event.last_error = error[:500]
        if event.attempts >= pctx.config.max_attempts:
            event.status = InboxStatus.FAILED
            event.processed_at = utcnow()
            event.payload_ciphertext = None
