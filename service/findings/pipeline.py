"""From a comment to a finding and the moderation it calls for.

``handle_comments`` is the one path every comment takes, whether it came by webhook (real time,
one at a time through ``handle_comment``), by polling recent posts or by a backfill scan (a page
of them at once): detect, apply the connection's effective policy, upsert the findings (unique
per comment), audit, and record the moderation actions as pending rows in the caller's unit of
work, with a handful of statements however many comments there are. It never calls the
platform; after committing, the caller runs ``perform_pending_actions`` (one batch) or enqueues
``execute_action`` jobs.

``process_event`` turns one stored inbox event into a ``handle_comment`` call.

Nothing here stores a comment's text or a found value: findings keep masked forms, offsets and
keyed fingerprints only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog

from service.audit.service import record
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.crypto import tenant_hash_key
from service.db import UnitOfWork, utcnow
from service.detection import DetectionError, fingerprint, guess_language
from service.detection import Finding as Detected
from service.errors import NotFound as NoToken
from service.findings.models import EXCERPT_PURPOSE, Finding, FindingSource, FindingStatus
from service.findings.repository import FindingRepository
from service.inbox.models import InboxEvent, InboxStatus
from service.moderation.models import ActionKind, ActionStatus
from service.moderation.repository import ActionRepository, Wanted
from service.moderation.schemas import ActionOutcome
from service.moderation.service import (
    ACTOR,
    EXECUTE_ACTION_JOB,
    action_job_id,
    backoff,
    describe,
    perform_actions,
)
from service.platforms import errors as platform
from service.platforms.graph import parse_graph_time
from service.platforms.schemas import Comment, IgComment
from service.policies.models import PolicyMode
from service.policies.service import acting_types, detector_patterns, effective_policy
from service.queue import Job
from service.workers.pipeline_context import PipelineContext

log = structlog.get_logger(__name__)

PAYLOAD_PURPOSE = "inbox_event"
EXCERPT_CHARS = 280
# Comments detected between two yields to the event loop.
_DETECT_SLICE = 100
_ELLIPSIS = "…"
# A human's decision on a finding is final: later events for the comment do not act again.
_REVIEWED = frozenset({FindingStatus.UNHIDDEN, FindingStatus.CONFIRMED})


class CommentView(msgspec.Struct, frozen=True, kw_only=True):
    """A comment as the pipeline needs it, whatever the source (webhook, poll, scan)."""

    comment_id: str
    post_id: str | None
    parent_id: str | None
    message: str | None
    author_id: str | None
    created_time: datetime | None
    permalink_url: str | None
    is_hidden: bool | None = None


class HandleOutcome(msgspec.Struct, frozen=True, kw_only=True):
    finding_id: uuid.UUID | None
    # A hide was requested (recorded now, or still pending from before).
    acted: bool
    # The finding was created now (not a repeat of this comment).
    new: bool
    # Pending actions to perform after the commit, in order (hide before reply).
    action_ids: tuple[uuid.UUID, ...] = ()
    # Those of them created in this unit of work (no attempt yet: no need to re-read the platform).
    fresh_action_ids: tuple[uuid.UUID, ...] = ()


_NOTHING = HandleOutcome(finding_id=None, acted=False, new=False)


def comment_view(comment: Comment | IgComment, *, post_id: str | None = None) -> CommentView:
    """A comment read from the platform as the pipeline sees it. ``post_id``: the post or media
    it was read under, for what the platform leaves out (a top-level comment's parent is its
    post, as in webhook events)."""
    if isinstance(comment, IgComment):
        return CommentView(
            comment_id=comment.id,
            post_id=comment.media_id or post_id,
            parent_id=comment.parent_id or post_id,
            message=comment.text,
            author_id=comment.from_id,
            created_time=comment.timestamp,
            permalink_url=None,
            is_hidden=comment.hidden,
        )
    return CommentView(
        comment_id=comment.id,
        post_id=comment.post_id or post_id,
        parent_id=comment.parent_id or post_id,
        message=comment.message,
        author_id=comment.from_id,
        created_time=comment.created_time,
        permalink_url=comment.permalink_url,
        is_hidden=comment.is_hidden,
    )


def masked_text(text: str, found: Sequence[Detected]) -> tuple[str, int, int]:
    """``text`` with every found value replaced by its masked form, and where the first
    finding starts and the last ends in the result."""
    pieces: list[str] = []
    pos = 0
    length = 0
    first = last = -1
    for f in sorted(found, key=lambda f: f.start):
        if f.start < pos:
            continue  # the engine never overlaps; be safe anyway
        pieces.append(text[pos : f.start])
        length += f.start - pos
        if first < 0:
            first = length
        pieces.append(f.masked)
        length += len(f.masked)
        last = length
        pos = f.end
    pieces.append(text[pos:])
    return "".join(pieces), max(first, 0), max(last, 0)


def masked_excerpt(text: str, found: Sequence[Detected], limit: int = EXCERPT_CHARS) -> str:
    """The masked comment, cut to about ``limit`` characters around what was found."""
    masked, first, last = masked_text(text, found)
    if len(masked) <= limit:
        return masked
    span = min(last - first, limit)
    start = max(0, first - (limit - span) // 2)
    end = min(len(masked), start + limit)
    start = max(0, end - limit)
    excerpt = masked[start:end].strip()
    return (_ELLIPSIS if start > 0 else "") + excerpt + (_ELLIPSIS if end < len(masked) else "")


def _entity(f: Detected) -> dict[str, Any]:
    return {
        "type": f.type.value,
        "start": f.start,
        "end": f.end,
        "score": f.score,
        "masked": f.masked,
    }


def _derived_permalink(connection: Connection, comment: CommentView) -> str | None:
    if connection.platform is not Platform.FACEBOOK or not comment.post_id:
        return None
    page, _, post = comment.post_id.partition("_")
    if not post:
        return None
    return (
        f"https://www.facebook.com/{page}/posts/{post}"
        f"?comment_id={comment.comment_id.rsplit('_', 1)[-1]}"
    )


@dataclass(slots=True)
class _Draft:
    """A comment that calls for a finding, before it is stored."""

    index: int
    comment: CommentView
    status: FindingStatus
    row: dict[str, Any]
    # The part of ``row`` that follows the comment's current text when it is edited.
    content: dict[str, Any]


async def handle_comment(
    pctx: PipelineContext,
    uow: UnitOfWork,
    connection: Connection,
    comment: CommentView,
    *,
    source: FindingSource,
    received_at: datetime,
    scan_id: uuid.UUID | None = None,
) -> HandleOutcome:
    """One comment through ``handle_comments``."""
    outcomes = await handle_comments(
        pctx, uow, connection, [comment], source=source, received_at=received_at, scan_id=scan_id
    )
    return outcomes[0]


async def handle_comments(
    pctx: PipelineContext,
    uow: UnitOfWork,
    connection: Connection,
    comments: Sequence[CommentView],
    *,
    source: FindingSource,
    received_at: datetime,
    scan_id: uuid.UUID | None = None,
) -> list[HandleOutcome]:
    """Detect, apply the effective policy, upsert the findings, audit, and record pending
    actions in ``uow``, for comments of one connection (a webhook's one, a backfill's page of
    a hundred): a handful of statements for the lot, not per comment. Never calls the
    platform; safe to call again for the same comments. One outcome per comment, in order."""
    outcomes = [_NOTHING] * len(comments)
    texts = [(i, c) for i, c in enumerate(comments) if c.message and c.message.strip()]
    if not texts:
        return outcomes
    tenant_id = TenantId(connection.tenant_id)
    policy = await effective_policy(uow, tenant_id, connection)
    page_comments = [c.comment_id for _, c in texts if _by_page(connection, c)]
    own_replies = (
        await ActionRepository(uow.session).own_replies(tenant_id, connection.id, page_comments)
        if page_comments and policy.scan_page_replies
        else set()
    )
    detector = pctx.detectors.get(
        tenant_id, policy.allowlist, detector_patterns(policy.custom_patterns)
    )
    thresholds = acting_types(policy)
    key = tenant_hash_key(pctx.settings.secret_key, tenant_id)
    now = utcnow()
    # By comment id: a comment met twice in one batch is handled once (its last version).
    drafts: dict[str, _Draft] = {}
    for done, (index, comment) in enumerate(texts, 1):
        if done % _DETECT_SLICE == 0:
            # Detection is CPU only: a poll of thousands of comments lets the worker's other
            # jobs (a real-time hide waiting on its platform call) run in between.
            await asyncio.sleep(0)
        by_page = _by_page(connection, comment)
        if by_page and (not policy.scan_page_replies or comment.comment_id in own_replies):
            continue
        text = comment.message or ""
        try:
            found = detector.detect(text, region=connection.country)
        except DetectionError as exc:
            log.warning("detect_failed", comment_id=comment.comment_id, error=type(exc).__name__)
            continue
        acting = [f for f in found if f.type in thresholds and f.score >= thresholds[f.type]]
        if not acting:
            continue
        if by_page:
            status = FindingStatus.REPORTED
        elif policy.mode is PolicyMode.MONITOR:
            status = FindingStatus.MONITORED
        elif comment.is_hidden:
            status = FindingStatus.HIDDEN
        else:
            status = FindingStatus.PENDING_HIDE
        content: dict[str, Any] = {
            "types": sorted({f.type.value for f in acting}),
            "entities": [_entity(f) for f in acting],
            # Every value the engine saw is masked here, also those below the thresholds.
            "masked_excerpt_ciphertext": pctx.cipher.encrypt_text(
                masked_excerpt(text, found), tenant_id=tenant_id, purpose=EXCERPT_PURPOSE
            ),
            "fingerprints": sorted({fingerprint(key, f) for f in acting}),
            "max_score": max(f.score for f in acting),
            "language": guess_language(text),
        }
        row = {
            "connection_id": connection.id,
            "client_id": connection.client_id,
            "comment_id": comment.comment_id,
            "post_id": comment.post_id,
            "parent_id": comment.parent_id,
            "permalink_url": comment.permalink_url or _derived_permalink(connection, comment),
            "author_id": comment.author_id,
            "by_page": by_page,
            "status": status,
            "source": source,
            "scan_id": scan_id,
            "comment_created_at": comment.created_time,
            "received_at": received_at,
            "hidden_at": now if status is FindingStatus.HIDDEN else None,
            **content,
        }
        drafts[comment.comment_id] = _Draft(index, comment, status, row, content)
    if not drafts:
        return outcomes

    findings = FindingRepository(uow.session)
    inserted = await findings.insert_new(tenant_id, [d.row for d in drafts.values()])
    existing = await findings.by_comments(
        tenant_id, connection.id, [c for c in drafts if c not in inserted]
    )
    acting_on: list[tuple[_Draft, uuid.UUID, bool]] = []
    for comment_id, draft in drafts.items():
        finding_id = inserted.get(comment_id)
        if finding_id is not None:
            record(
                uow,
                tenant_id,
                actor=ACTOR,
                action="finding.recorded",
                subject_type="finding",
                subject_id=finding_id,
                data={
                    "types": draft.content["types"],
                    "status": draft.status.value,
                    "source": source.value,
                    "connection_id": str(connection.id),
                    "comment_id": comment_id,
                },
            )
            new = True
        else:
            finding = existing.get(comment_id)
            if finding is None:  # deleted between the insert and the read: nothing to act on
                continue
            finding_id, new = finding.id, False
            if not _follow_edit(uow, tenant_id, finding, draft, source):
                outcomes[draft.index] = HandleOutcome(finding_id=finding_id, acted=False, new=False)
                continue
        if draft.status in {FindingStatus.MONITORED, FindingStatus.REPORTED}:
            outcomes[draft.index] = HandleOutcome(finding_id=finding_id, acted=False, new=new)
        else:
            acting_on.append((draft, finding_id, new))
    for draft, outcome in await _record_actions(uow, tenant_id, connection, policy.mode, acting_on):
        outcomes[draft.index] = outcome
    return outcomes


def _by_page(connection: Connection, comment: CommentView) -> bool:
    return comment.author_id is not None and comment.author_id == connection.external_id


def _follow_edit(
    uow: UnitOfWork, tenant_id: TenantId, finding: Finding, draft: _Draft, source: FindingSource
) -> bool:
    """A comment that already has a finding: the finding follows the comment's current text.
    Returns whether its moderation still calls for actions."""
    if finding.status in _REVIEWED:
        return False  # a human's decision is final
    content = draft.content
    if finding.fingerprints != content["fingerprints"] or finding.entities != content["entities"]:
        for name, value in content.items():
            setattr(finding, name, value)
        record(
            uow,
            tenant_id,
            actor=ACTOR,
            action="finding.updated",
            subject_type="finding",
            subject_id=finding.id,
            data={"types": content["types"], "source": source.value},
        )
    if finding.status in {FindingStatus.MONITORED, FindingStatus.REPORTED}:
        return False
    # A hide that failed for good is not tried again by every later event.
    return not (
        finding.status is FindingStatus.HIDE_FAILED and draft.status is FindingStatus.PENDING_HIDE
    )


async def _record_actions(
    uow: UnitOfWork,
    tenant_id: TenantId,
    connection: Connection,
    mode: PolicyMode,
    acting_on: Sequence[tuple[_Draft, uuid.UUID, bool]],
) -> list[tuple[_Draft, HandleOutcome]]:
    """The hide (and reply) rows of these findings, created where missing, in one statement."""
    # Replies are Facebook-only here (Instagram replies go through another edge).
    reply = mode is PolicyMode.HIDE_AND_REPLY and connection.platform is Platform.FACEBOOK
    done_at = utcnow()
    wanted: list[Wanted] = []
    for draft, finding_id, _ in acting_on:
        hidden = draft.comment.is_hidden is True
        wanted.append(
            Wanted(
                finding_id,
                draft.comment.comment_id,
                ActionKind.HIDE,
                ACTOR,
                ActionStatus.DONE if hidden else ActionStatus.PENDING,
                done_at if hidden else None,
            )
        )
        if reply:
            wanted.append(Wanted(finding_id, draft.comment.comment_id, ActionKind.REPLY, ACTOR))
    ensured = await ActionRepository(uow.session).ensure_many(tenant_id, connection.id, wanted)
    results: list[tuple[_Draft, HandleOutcome]] = []
    for draft, finding_id, new in acting_on:
        comment_id = draft.comment.comment_id
        pending: list[uuid.UUID] = []
        fresh: list[uuid.UUID] = []
        hide, created = ensured[comment_id, ActionKind.HIDE]
        if created and hide.status is ActionStatus.DONE:
            record(
                uow,
                tenant_id,
                actor=ACTOR,
                action="comment.hidden",
                subject_type="finding",
                subject_id=finding_id,
                data={
                    "action_id": str(hide.id),
                    "comment_id": comment_id,
                    "connection_id": str(connection.id),
                    "already": True,
                },
            )
        if hide.status is ActionStatus.PENDING:
            pending.append(hide.id)
            if created:
                fresh.append(hide.id)
        acted = hide.status is ActionStatus.PENDING or created
        if reply:
            action, reply_created = ensured[comment_id, ActionKind.REPLY]
            if action.status is ActionStatus.PENDING:
                pending.append(action.id)
                if reply_created:
                    fresh.append(action.id)
        results.append(
            (
                draft,
                HandleOutcome(
                    finding_id=finding_id,
                    acted=acted,
                    new=new,
                    action_ids=tuple(pending),
                    fresh_action_ids=tuple(fresh),
                ),
            )
        )
    return results


async def perform_pending_actions(
    pctx: PipelineContext,
    tenant_id: TenantId,
    action_ids: Sequence[uuid.UUID],
    *,
    fresh: Collection[uuid.UUID] = (),
    scan_counts: bool = True,
) -> list[ActionOutcome]:
    """Perform actions recorded by ``handle_comments`` once its unit of work has committed,
    as one batch (``perform_actions``).

    Never raises for platform trouble: a transient failure queues an ``execute_action`` job
    deferred by the platform's wait, a permanent one is recorded on the action, and a refused
    token marks the connection needs_reauth (the actions wait, pending, for reconcile).
    """
    outcomes = await perform_actions(
        pctx, tenant_id, action_ids, fresh=frozenset(fresh), scan_counts=scan_counts
    )
    later = [o for o in outcomes if o.result == "retry"]
    if later:
        await pctx.queue.send(
            [
                Job(
                    EXECUTE_ACTION_JOB,
                    (str(tenant_id), str(o.action_id)),
                    job_id=action_job_id(o.action_id),
                    defer_by=o.retry_after or 1.0,
                )
                for o in later
            ]
        )
    return outcomes


# --- inbox events ----------------------------------------------------------------------------


class EventOutcome(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # done | skipped | busy | waiting | retry | failed | not_pending
    reason: str | None = None
    retry_after: float | None = None
    handled: HandleOutcome | None = None


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
    except platform.NotFound:
        return None
    view = comment_view(fetched, post_id=comment.post_id)
    return msgspec.structs.replace(
        view,
        parent_id=fetched.parent_id or comment.parent_id or view.parent_id,
        author_id=view.author_id or comment.author_id,
        created_time=view.created_time or comment.created_time,
    )


async def process_event(
    pctx: PipelineContext, tenant_id: TenantId, event_id: uuid.UUID
) -> EventOutcome:
    """One inbox event, in one unit of work: skip it, or hand its comment to ``handle_comment``.
    The caller performs ``outcome.handled.action_ids`` after this returns (committed)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        event = await _lock_event(uow, tenant_id, event_id)
        if event is None:
            exists = await uow.session.get(InboxEvent, (tenant_id, event_id))
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
        payload = msgspec.json.decode(
            pctx.cipher.decrypt(
                event.payload_ciphertext, tenant_id=tenant_id, purpose=PAYLOAD_PURPOSE
            )
        )
        value = payload.get("value") if isinstance(payload, dict) else None
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
            except (platform.TokenInvalid, NoToken):
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
        handled = await handle_comment(
            pctx,
            uow,
            connection,
            comment,
            source=FindingSource.REALTIME,
            received_at=event.received_at,
        )
        outcome = _finish(event, InboxStatus.DONE, None)
    return EventOutcome(status=outcome.status, handled=handled)


def _finish(event: InboxEvent, status: InboxStatus, reason: str | None) -> EventOutcome:
    event.status = status
    event.last_error = reason
    event.processed_at = utcnow()
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


async def _lock_event(
    uow: UnitOfWork, tenant_id: TenantId, event_id: uuid.UUID
) -> InboxEvent | None:
    from sqlalchemy import select

    stmt = (
        select(InboxEvent)
        .where(InboxEvent.tenant_id == tenant_id, InboxEvent.id == event_id)
        .with_for_update(skip_locked=True)
    )
    return (await uow.session.scalars(stmt)).one_or_none()


async def record_event_failure(
    pctx: PipelineContext, tenant_id: TenantId, event_id: uuid.UUID, error: str
) -> None:
    """An unexpected error: count the attempt; after too many, the event fails for good (so a
    poison event is not sent again forever by reconcile)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        event = await _lock_event(uow, tenant_id, event_id)
        if event is None or event.status is not InboxStatus.PENDING:
            return
        event.attempts += 1
        event.last_error = error[:500]
        if event.attempts >= pctx.config.max_attempts:
            event.status = InboxStatus.FAILED
            event.processed_at = utcnow()
