"""From a comment to a finding and the moderation it calls for.

``handle_comments`` is the one path every comment takes, whether it came by webhook (real time,
one at a time through ``handle_comment``, service/pipeline/inbox.py), by polling recent posts
(polling.py) or by a backfill scan (scans.py, a page of them at once): detect, apply the
connection's effective policy, upsert the findings (unique per comment), audit, and record the
moderation actions as pending rows in the caller's unit of work, with a handful of statements
however many comments there are. It never calls the platform and never commits: the caller
commits, then performs the actions (actions.py).

Nothing here stores a comment's text or a found value: findings keep masked forms, offsets and
keyed fingerprints only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog

from service.audit.service import record
from service.auth.types import TenantId
from service.connections.models import Connection, Platform
from service.crypto import tenant_hash_key
from service.db import UnitOfWork, utcnow
from service.detection import DetectionError, fingerprint, guess_language
from service.detection import Finding as Detected
from service.erasure.tombstones import erased_comments
from service.findings.excerpt import masked_excerpt
from service.findings.models import EXCERPT_PURPOSE, Finding, FindingSource, FindingStatus
from service.findings.repository import FindingRepository
from service.findings.service import emit_finding_event
from service.locales import country_language
from service.moderation.models import ActionKind, ActionStatus
from service.moderation.repository import ActionRepository, Wanted
from service.moderation.service import ACTOR
from service.pipeline.context import PipelineContext
from service.platforms.comments import CommentView, comment_view
from service.policies.models import PolicyMode
from service.policies.service import acting_types, detector_patterns, effective_policy
from service.responses.service import observe_comments
from service.tenancy.repository import ClientRepository
from service.webhooks.events import EventType

__all__ = ["CommentView", "HandleOutcome", "comment_view", "handle_comment", "handle_comments"]

log = structlog.get_logger(__name__)

# Comments detected between two yields to the event loop.
_DETECT_SLICE = 100
# A human's decision on a finding is final: later events for the comment do not act again.
_REVIEWED = frozenset({FindingStatus.UNHIDDEN, FindingStatus.CONFIRMED})


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
    received_ats: Sequence[datetime] | None = None,
) -> list[HandleOutcome]:
    """Detect, apply the effective policy, upsert the findings, audit, and record pending
    actions in ``uow``, for comments of one connection (a webhook's one, a backfill's page of
    a hundred): a handful of statements for the lot, not per comment. Never calls the
    platform; safe to call again for the same comments. One outcome per comment, in order.
    ``received_ats``: when each comment arrived, if not all at ``received_at`` (a batch of
    webhook events)."""
    outcomes = [_NOTHING] * len(comments)
    texts = [(i, c) for i, c in enumerate(comments) if c.message and c.message.strip()]
    if not texts:
        return outcomes
    tenant_id = uow.tenant
    # Erased stays erased: a poll, a backfill or a redelivered webhook meets the author's
    # comments again (hidden, still on the page); the tombstones drop them here, unread.
    erased = await erased_comments(
        uow.session,
        tenant_id,
        pctx.settings.secret_key,
        connection.platform.value,
        [(c.comment_id, c.author_id) for _, c in texts],
    )
    if erased:
        texts = [(i, c) for i, c in texts if c.comment_id not in erased]
        if not texts:
            return outcomes
    # Response times and storms see every comment left, acting or not: one insert of ids and
    # times; the arithmetic is left to their crons (service/responses/steps.py, storms/steps.py).
    await observe_comments(uow, connection, [c for _, c in texts], received_at=received_at)
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
    page_language = await _page_language(uow, connection, policy.default_language)
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
        # The commenter's language when the text says so; on short texts ("pers.nr 540311
        # 3888") the guess is empty and the page's own language stands in, never English by
        # default: its context words are what tell a national id from an order number.
        language = guess_language(text) or page_language
        try:
            found = detector.detect(text, lang=language, region=connection.country)
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
            "language": language,
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
            "received_at": received_ats[index] if received_ats else received_at,
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
            emit_finding_event(
                uow,
                EventType.FINDING_CREATED,
                finding_id,
                draft.row,
                tenant_id=tenant_id,
                platform=connection.platform,
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


async def _page_language(
    uow: UnitOfWork, connection: Connection, policy_language: str | None
) -> str | None:
    """The language the page is written in: the policy's, the connection's, its country's, or
    its client's (language, then country); None when none of them says."""
    language = (
        policy_language or connection.default_language or country_language(connection.country)
    )
    if language:
        return language
    client = await ClientRepository(uow.session).get(uow.tenant, connection.client_id)
    if client is None:
        return None
    return client.default_language or country_language(client.country)


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
    if draft.comment.is_hidden and finding.status in {
        FindingStatus.PENDING_HIDE,
        FindingStatus.HIDE_FAILED,
    }:
        # The platform shows it hidden (a poll read it so): the status follows at once; its
        # pending hide, performed next, reads the platform and records it as already done.
        finding.status = FindingStatus.HIDDEN
        finding.hidden_at = utcnow()
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
