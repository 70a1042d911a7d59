"""The way in: a webhook delivery, stored as inbox rows, each routed to ``handle_comments``.

``accept_delivery`` runs in the API's request (``POST /webhooks/meta``): it verifies and decodes
the delivery, routes each change to every connection of its page (remembered for a moment by
the API process, service/inbox/routing.py), and stores the changes as encrypted inbox rows in
one statement per tenant, committed before Meta gets its 200. Then it sends the jobs: one per
connection for the delivery's batchable changes (comments that carry their text, comments the
platform hid), one for each other change.

``process_event`` is that job's body: one stored event, in one unit of work, skipped or turned
into a comment (fetched from the platform when the event lacks its text) and handled together
with the connection's other batchable events no worker holds (a backlog, up to
``REALTIME_BATCH``): under load one job, one transaction, one detection pass, one audit append
and one Graph batch serve many comments, the way a backfill page does. The caller performs the
actions recorded once it has committed. A page ``hide`` event makes the comment's finding follow
the platform at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog

from service import queue as jobs
from service.auth.types import TenantId
from service.connections.errors import NoPageToken
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.crypto import Cipher
from service.db import Database, UnitOfWork, utcnow
from service.erasure.tombstones import ErasureCheck
from service.findings.models import FindingSource
from service.findings.repository import FindingRepository
from service.ids import new_id
from service.inbox.models import PAYLOAD_PURPOSE, InboxEvent, InboxStatus
from service.inbox.repository import InboxRepository
from service.inbox.routing import DeliveryRouter
from service.inbox.schemas import Accepted, Change, Entry
from service.inbox.service import change_ids, dedupe_key, parse_delivery, platform_of, short
from service.moderation.models import ActionKind, ActionStatus
from service.moderation.repository import ActionRepository
from service.moderation.service import ACTOR, backoff, describe
from service.pipeline.actions import record_hidden
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
    router: DeliveryRouter | None = None,
) -> Accepted:
    """Verify a delivery and store each change once per connection watching its page, committed
    before the caller answers Meta; then the jobs that process them (``_jobs_for``).
    ``secret_key`` keys the erasure tombstones: a change from an erased author, or about an
    erased comment, is acknowledged and dropped without being stored. ``router``: the API
    process's memory of page routes (none: every delivery asks Postgres)."""
    delivery = parse_delivery(app_secret, raw_body, signature)
    platform_kind = platform_of(delivery.object)
    changes = [(entry, change) for entry in delivery.entry for change in entry.changes]
    if platform_kind is None or not changes:
        return Accepted(changes=len(changes), stored=0, duplicates=0, unrouted=len(changes))
    router = router or DeliveryRouter(ttl=0.0, touch_every=0.0)
    page_ids = sorted({entry.id for entry, _ in changes})
    routes = await router.route(db, platform_kind, page_ids)
    received_at = utcnow()
    stored = duplicates = unrouted = erased = 0
    by_tenant: dict[TenantId, list[tuple[uuid.UUID, Entry, Change]]] = defaultdict(list)
    for entry, change in changes:
        targets = routes.get(entry.id)
        if not targets:
            unrouted += 1  # nobody connected this page: acknowledged and dropped
            continue
        for route in targets:
            by_tenant[route.tenant_id].append((route.connection_id, entry, change))

    for tenant_id, routed in by_tenant.items():
        async with db.unit_of_work(tenant_id) as uow:
            # A remembered route is checked in the tenant's own transaction: a connection
            # revoked or deleted since gets nothing, exactly as if it had been asked now.
            # Erased stays erased: a change by an erased author or about an erased comment is
            # acknowledged and dropped here, before its text is stored (service/erasure).
            routed_ids = [change_ids(change.value) for _, _, change in routed]
            erasure = ErasureCheck(
                secret_key,
                tenant_id,
                platform_kind.value,
                [(object_id, sender_id) for object_id, _, _, sender_id in routed_ids if object_id],
            )
            watching, tombstones = await InboxRepository(uow.session).admission(
                tenant_id, {connection_id for connection_id, _, _ in routed}, erasure.statement()
            )
            skip = erasure.erased(tombstones)
            kept = [i for i, item in enumerate(routed) if item[0] in watching]
            items = [routed[i] for i in kept]
            if len(items) < len(routed):
                unrouted += len(routed) - len(items)
                router.forget()
                if not items:
                    continue
            ids = [routed_ids[i] for i in kept]
            rows: dict[str, dict[str, Any]] = {}  # by dedupe key: a change repeated in the body
            kinds: dict[uuid.UUID, tuple[uuid.UUID, bool]] = {}
            for (connection_id, entry, change), (object_id, post_id, parent_id, sender_id) in zip(
                items, ids, strict=True
            ):
                if object_id in skip:
                    erased += 1
                    continue
                key = dedupe_key(entry.id, change)
                if key in rows:
                    duplicates += 1
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
                rows[key] = {
                    "id": event_id,
                    "connection_id": connection_id,
                    "field": change.field[:32],
                    "item": short(change.value.get("item")),
                    "verb": short(change.value.get("verb")),
                    "object_id": object_id,
                    "post_id": post_id,
                    "parent_id": parent_id,
                    "sender_id": sender_id,
                    "dedupe_key": key,
                    "payload_ciphertext": cipher.encrypt(
                        payload, tenant_id=tenant_id, purpose=PAYLOAD_PURPOSE
                    ),
                    "status": InboxStatus.PENDING,
                    "attempts": 0,
                    "received_at": received_at,
                }
                kinds[event_id] = (connection_id, batchable(change.field, change.value))
            new = await InboxRepository(uow.session).store_many(tenant_id, list(rows.values()))
            stored += len(new)
            duplicates += len(rows) - len(new)
            for job in _jobs_for(tenant_id, [(e, *kinds[e]) for e in kinds if e in new]):
                uow.jobs.add(job)
            touch = router.due_touch({connection_id for connection_id, _, _ in items})
            if touch:
                await ConnectionRepository(uow.session).touch_events(tenant_id, touch, received_at)
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


def batchable(field: str, value: dict[str, Any]) -> bool:
    """Whether a change can be handled in a batch of its connection's pending events without a
    platform read first: a new or edited comment that carries its text, or a comment hidden on
    the platform. The API sends jobs by it; the worker's ``_ready`` takes events by it (among
    those ``lock_ready`` selects by field, item and verb)."""
    verb = value.get("verb")
    if field == "feed" and value.get("item") == "comment":
        return verb == "hide" or (
            verb in {"add", "edited"} and isinstance(value.get("message"), str)
        )
    if field == "comments":
        return verb in {None, "add", "edited"} and isinstance(value.get("text"), str)
    return False


def _jobs_for(
    tenant_id: TenantId, events: list[tuple[uuid.UUID, uuid.UUID, bool]]
) -> list[jobs.Job]:
    """The jobs for newly stored (event, connection, batchable) rows. A connection's batchable
    events are drained together: one ``drain_inbox`` job per connection, which the queue
    coalesces with the other deliveries' in the same few milliseconds (``Queue.send``), so
    under load one run takes many deliveries' events in one batch. Any other event (a comment
    whose text must be read from the platform, a post, a reaction) has its own job."""
    sent: list[jobs.Job] = []
    drained: set[uuid.UUID] = set()
    for event_id, connection_id, shares in events:
        if not shares:
            sent.append(jobs.process_inbox_event(tenant_id, event_id))
        elif connection_id not in drained:
            drained.add(connection_id)
            sent.append(jobs.drain_inbox(tenant_id, connection_id))
    return sent


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


@dataclass(slots=True)
class _Ready:
    """A pending event that needs no platform read: a comment with its text, or a comment the
    platform hid."""

    event: InboxEvent
    comment: CommentView | None = None
    hidden: str | None = None


async def process_event(
    pctx: PipelineContext,
    tenant_id: TenantId,
    event_id: uuid.UUID,
    *,
    batch_size: int = REALTIME_BATCH,
) -> EventOutcome:
    """One inbox event, in one unit of work, with up to ``batch_size - 1`` other pending events
    of its connection that need no platform read (a backlog): comments are handed to
    ``handle_comments`` together, hides followed together. A job stands for every batchable
    event of its delivery (``_jobs_for``), so when its own event is already handled, or held by
    another job, it still takes the connection's backlog. The caller performs
    ``outcome.action_ids`` after this returns (committed)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        inbox = InboxRepository(uow.session)
        event = await inbox.lock(tenant_id, event_id)
        if event is None or event.status is not InboxStatus.PENDING:
            known = event or await inbox.get(tenant_id, event_id)
            if known is None:
                return EventOutcome(status="not_pending")
            # Handled, or held by another job's batch: this job still drains its connection.
            drained = await _drain(pctx, uow, known.connection_id, batch_size)
            return msgspec.structs.replace(
                drained, status="busy" if event is None else "not_pending"
            )
        connection = await ConnectionRepository(uow.session).get(tenant_id, event.connection_id)
        if connection is None:
            return EventOutcome(status="not_pending")
        if connection.status is ConnectionStatus.NEEDS_REAUTH:
            # Left pending: once the page is re-authorised, reconcile sends it again.
            event.last_error = "waiting for the connection to be re-authorised"
            return EventOutcome(status="waiting", reason="needs_reauth")
        if connection.status is not ConnectionStatus.ACTIVE:
            # What the job stands for goes the same way: its delivery's other events have no
            # job of their own (``_jobs_for``).
            reason = f"connection {connection.status.value}"
            await _skip_pending(uow, connection, batch_size - 1, exclude=event.id)
            return _finish(event, InboxStatus.SKIPPED, reason)
        if event.payload_ciphertext is None:  # cleared: nothing left to process
            return _finish(event, InboxStatus.SKIPPED, "the payload was already cleared")
        payload = msgspec.json.decode(
            pctx.cipher.decrypt(
                event.payload_ciphertext, tenant_id=tenant_id, purpose=PAYLOAD_PURPOSE
            )
        )
        value = payload.get("value") if isinstance(payload, dict) else None
        own = _ready(event, value if isinstance(value, dict) else {})
        if own is None:
            comment = comment_from_payload(event, value if isinstance(value, dict) else {})
            if comment is None or not comment.comment_id:
                return _finish(
                    event,
                    InboxStatus.SKIPPED,
                    f"not a new or edited comment ({event.item}/{event.verb})",
                )
            # A comment whose text the event lacks: read from the platform first.
            event.attempts += 1
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
            own = _Ready(event, comment=fetched)
        backlog = (
            await _backlog(pctx, uow, connection.id, exclude=event.id, limit=batch_size - 1)
            if batch_size > 1
            else []
        )
        return await _take(pctx, uow, connection, [own, *backlog])


async def drain_connection(
    pctx: PipelineContext,
    tenant_id: TenantId,
    connection_id: uuid.UUID,
    *,
    batch_size: int = REALTIME_BATCH,
) -> EventOutcome:
    """One batch of the connection's pending events that need no platform read (at most
    ``batch_size``), in one unit of work, like ``process_event``'s backlog. ``events`` in the
    outcome says how many were taken: a full batch means more may be waiting. The caller
    performs ``outcome.action_ids`` after this returns (committed)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        return await _drain(pctx, uow, connection_id, batch_size)


async def _drain(
    pctx: PipelineContext, uow: UnitOfWork, connection_id: uuid.UUID, batch_size: int
) -> EventOutcome:
    """``drain_connection``'s work in the caller's unit of work."""
    connection = await ConnectionRepository(uow.session).get(uow.tenant, connection_id)
    if connection is None or connection.status is ConnectionStatus.NEEDS_REAUTH:
        # Left pending: once the page is re-authorised, reconcile sends them again.
        return EventOutcome(status="not_pending")
    if connection.status is not ConnectionStatus.ACTIVE:
        skipped = await _skip_pending(uow, connection, batch_size)
        return EventOutcome(
            status=InboxStatus.SKIPPED.value if skipped else "not_pending", events=skipped
        )
    backlog = await _backlog(pctx, uow, connection_id, limit=batch_size)
    if not backlog:
        return EventOutcome(status="not_pending")
    taken = await _take(pctx, uow, connection, backlog)
    return msgspec.structs.replace(taken, handled=None)


async def _take(
    pctx: PipelineContext, uow: UnitOfWork, connection: Connection, batch: list[_Ready]
) -> EventOutcome:
    """Handle a batch of ready events of one connection: comments in one ``handle_comments``
    (one detection pass, one audit append, one set of statements), then the hides the platform
    reported; every event is done. The outcome's ``handled`` is the first event's comment."""
    comments = [r for r in batch if r.comment is not None]
    outcomes: list[HandleOutcome] = []
    if comments:
        outcomes = await handle_comments(
            pctx,
            uow,
            connection,
            [r.comment for r in comments if r.comment is not None],
            source=FindingSource.REALTIME,
            received_at=comments[0].event.received_at,
            received_ats=[r.event.received_at for r in comments],
        )
    hidden = [r.hidden for r in batch if r.hidden]
    followed = await follow_platform_hides(uow, connection, hidden) if hidden else set()
    inbox, now = InboxRepository(uow.session), utcnow()
    skipped = [r.event.id for r in batch if r.hidden is not None and r.hidden not in followed]
    done = [r.event.id for r in batch if r.hidden is None or r.hidden in followed]
    await inbox.settle(uow.tenant, done, InboxStatus.DONE, now)
    await inbox.settle(uow.tenant, skipped, InboxStatus.SKIPPED, now)
    first = batch[0]
    return EventOutcome(
        status=InboxStatus.DONE.value
        if first.comment is not None or first.hidden in followed
        else InboxStatus.SKIPPED.value,
        handled=outcomes[0] if outcomes and first.comment is not None else None,
        action_ids=tuple(dict.fromkeys(a for o in outcomes for a in o.action_ids)),
        fresh_action_ids=tuple(dict.fromkeys(a for o in outcomes for a in o.fresh_action_ids)),
        events=len(batch),
    )


async def _skip_pending(
    uow: UnitOfWork, connection: Connection, limit: int, *, exclude: uuid.UUID | None = None
) -> int:
    """Skip up to ``limit`` of a paused or revoked connection's pending batchable events (they
    have no job of their own: ``_jobs_for``), unread. Returns how many."""
    if limit <= 0:
        return 0
    inbox = InboxRepository(uow.session)
    events = await inbox.lock_ready(uow.tenant, connection.id, exclude=exclude, limit=limit)
    await inbox.settle(
        uow.tenant,
        [e.id for e in events],
        InboxStatus.SKIPPED,
        utcnow(),
        f"connection {connection.status.value}",
    )
    return len(events)


def _ready(event: InboxEvent, value: dict[str, Any]) -> _Ready | None:
    """The event as batchable work, or None when it is not (``batchable`` decides)."""
    if not batchable(event.field, value):
        return None
    if value.get("verb") == "hide":
        # The comment is hidden on the platform (by our own call, whose result is not
        # recorded yet, or by a moderator): the finding follows at once.
        return _Ready(event, hidden=event.object_id or "")
    comment = comment_from_payload(event, value)
    if comment is None or not comment.comment_id:
        return None
    return _Ready(event, comment=comment)


async def _backlog(
    pctx: PipelineContext,
    uow: UnitOfWork,
    connection_id: uuid.UUID,
    *,
    exclude: uuid.UUID | None = None,
    limit: int,
) -> list[_Ready]:
    """Other pending events of the connection that need no platform read, oldest first,
    locked. Those that need a platform read first are left to their own jobs."""
    taken: list[_Ready] = []
    if limit <= 0:
        return taken
    others = await InboxRepository(uow.session).lock_ready(
        uow.tenant, connection_id, exclude=exclude, limit=limit
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
        ready = _ready(other, value if isinstance(value, dict) else {})
        if ready is None:
            continue
        # No attempt is counted: the event is settled in this transaction, or not at all.
        taken.append(ready)
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


async def follow_platform_hides(
    uow: UnitOfWork, connection: Connection, comment_ids: Sequence[str]
) -> set[str]:
    """The platform says these comments are hidden: each one's hide action is done and its
    finding hidden, unless a worker holds the action right now (it is performing it and records
    the result itself). Returns the comments whose state changed. Most are echoes of our own
    hides, already recorded: one read settles those."""
    wanted = sorted({c for c in comment_ids if c})
    if not wanted:
        return set()
    tenant_id = uow.tenant
    actions = ActionRepository(uow.session)
    hides = await actions.of_comments(tenant_id, connection.id, wanted, ActionKind.HIDE)
    open_ids = [a.id for a in hides.values() if a.status is not ActionStatus.DONE]
    if not open_ids:
        return set()
    locked = [
        a
        for a in (await actions.lock_many(tenant_id, open_ids)).values()
        if a.status is not ActionStatus.DONE
    ]
    findings = await FindingRepository(uow.session).lock_many(
        tenant_id, [a.finding_id for a in locked if a.finding_id is not None]
    )
    followed: set[str] = set()
    for action in locked:
        finding = findings.get(action.finding_id) if action.finding_id is not None else None
        record_hidden(uow, action, finding, connection, already=True)
        followed.add(action.comment_id)
    return followed


async def one_by_one(
    pctx: PipelineContext, tenant_id: TenantId, connection_id: uuid.UUID
) -> list[jobs.Job]:
    """A job per pending event of the connection that a drain would take (up to
    ``REALTIME_BATCH``): after a drain failed, each fails or succeeds alone."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        events = await InboxRepository(uow.session).lock_ready(
            tenant_id, connection_id, limit=REALTIME_BATCH
        )
        return [jobs.process_inbox_event(tenant_id, e.id) for e in events]


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
