"""Performing moderation actions on the platform, each exactly once.

An action is a row (pending -> done | failed), unique per comment and kind, written and committed
by ``handle_comments`` before the platform is called. Performing one locks its row
(``FOR UPDATE SKIP LOCKED``: a second worker on the same action backs off), calls the platform and
records the result in the same transaction: the only transaction held across a platform call, and
it holds nothing but those rows (at most ``ACTIONS_PER_TRANSACTION`` of them). Because a crash can
fall between the platform's answer and that commit, any attempt that is not the first of a freshly
committed row checks the platform first: a comment already hidden is not hidden again, and a reply
the page already posted under the comment is recorded instead of posted twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import structlog

from service import queue as jobs
from service.audit.service import record
from service.auth.types import TenantId
from service.connections.errors import NoPageToken
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.db import UnitOfWork, utcnow
from service.findings.models import Finding, FindingStatus
from service.findings.repository import FindingRepository
from service.locales import country_language
from service.moderation.models import ActionKind, ActionStatus, ModerationAction
from service.moderation.repository import ActionRepository
from service.moderation.schemas import ActionOutcome, Result
from service.moderation.service import ACTOR, backoff, choose_language, describe, render_reply
from service.pipeline.context import PipelineContext
from service.platforms import errors as platform
from service.policies.schemas import EffectivePolicy
from service.policies.service import effective_policy
from service.scanning.service import count_late_hides
from service.tenancy.models import Client
from service.tenancy.repository import ClientRepository
from service.webhooks.events import CommentEventData, EventType
from service.webhooks.service import api_url, emit

log = structlog.get_logger(__name__)


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
                jobs.execute_action(tenant_id, o.action_id, defer_by=o.retry_after or 1.0)
                for o in later
            ]
        )
    return outcomes


async def perform_quietly(
    pctx: PipelineContext,
    tenant_id: TenantId,
    action_ids: Sequence[uuid.UUID],
    fresh: Collection[uuid.UUID],
) -> None:
    """Perform committed actions; an error is logged, not raised: the actions are pending rows
    and the reconcile cron sends them again."""
    try:
        await perform_pending_actions(pctx, tenant_id, action_ids, fresh=frozenset(fresh))
    except Exception as exc:
        log.exception("perform_actions_error", error=type(exc).__name__)


# Platform calls one batch of actions makes at the same time.
ACTION_CONCURRENCY = 16
# Actions per transaction: its row locks are held while the platform answers, so a long list
# (a resumed scan's thousands of pending hides) goes in slices, each committed on its own.
ACTIONS_PER_TRANSACTION = 100


async def perform_action(
    pctx: PipelineContext, tenant_id: TenantId, action_id: uuid.UUID, *, fresh: bool = False
) -> ActionOutcome:
    """Perform one pending action (see ``perform_actions``)."""
    outcomes = await perform_actions(
        pctx, tenant_id, [action_id], fresh=frozenset({action_id}) if fresh else frozenset()
    )
    return outcomes[0]


async def perform_actions(
    pctx: PipelineContext,
    tenant_id: TenantId,
    action_ids: Sequence[uuid.UUID],
    *,
    fresh: Collection[uuid.UUID] = frozenset(),
    scan_counts: bool = True,
) -> list[ActionOutcome]:
    """Perform pending actions, up to ``ACTIONS_PER_TRANSACTION`` per transaction: lock their
    rows, call the platform for all of them at once (Graph batch requests for hides, up to
    ``ACTION_CONCURRENCY`` other calls in flight), record every result, commit.
    Hides and unhides go first; replies follow in the same transaction, because a reply waits
    for its comment's hide. One outcome per id, in order.

    ``fresh``: actions committed moments ago by the caller, which has not called the platform
    for them, so their state need not be read from the platform first. ``scan_counts``: add
    hides of an ended scan's findings to its count (False from the scan itself, which counts
    its own hides and must not wait on its own row lock here). An unexpected error in
    one action's call is that action's failed attempt, not the batch's: the others' results,
    already real on the platform, are kept."""
    outcomes: list[ActionOutcome] = []
    fresh_ids = frozenset(fresh)
    for start in range(0, len(action_ids), ACTIONS_PER_TRANSACTION):
        chunk = action_ids[start : start + ACTIONS_PER_TRANSACTION]
        outcomes.extend(await _perform_batch(pctx, tenant_id, chunk, fresh_ids, scan_counts))
    return outcomes


async def _perform_batch(
    pctx: PipelineContext,
    tenant_id: TenantId,
    action_ids: Sequence[uuid.UUID],
    fresh: Collection[uuid.UUID],
    scan_counts: bool,
) -> list[ActionOutcome]:
    outcomes: dict[uuid.UUID, ActionOutcome] = {}
    async with pctx.db.unit_of_work(tenant_id) as uow:
        actions = ActionRepository(uow.session)
        locked = await actions.lock_many(tenant_id, action_ids)
        absent = [a for a in action_ids if a not in locked]
        present = await actions.existing(tenant_id, absent) if absent else set()
        for action_id in absent:
            # Locked by another worker, which is performing it right now, or gone.
            result: Result = "busy" if action_id in present else "not_pending"
            outcomes[action_id] = ActionOutcome(action_id=action_id, result=result)
        pending = [a for a in locked.values() if a.status is ActionStatus.PENDING]
        for action in locked.values():
            if action.status is not ActionStatus.PENDING:
                outcomes[action.id] = ActionOutcome(action_id=action.id, result="not_pending")
        findings = await FindingRepository(uow.session).lock_many(
            tenant_id, [a.finding_id for a in pending if a.finding_id is not None]
        )
        connections = ConnectionRepository(uow.session)
        replies = ReplyWriter(uow, tenant_id)
        performers: list[_Performer] = []
        for action in pending:
            connection = await connections.get(tenant_id, action.connection_id)
            if connection is None:
                outcomes[action.id] = ActionOutcome(action_id=action.id, result="not_pending")
            elif connection.status is not ConnectionStatus.ACTIVE:
                # Nothing platform-side while paused or unauthorised; reconcile resumes it later.
                outcomes[action.id] = ActionOutcome(
                    action_id=action.id, result="waiting", error=connection.status.value
                )
            else:
                finding = findings.get(action.finding_id) if action.finding_id else None
                performers.append(
                    _Performer(pctx, uow, tenant_id, connection, action, finding, replies)
                )
        for group in (
            [p for p in performers if p.action.kind is not ActionKind.REPLY],
            [p for p in performers if p.action.kind is ActionKind.REPLY],
        ):
            for performer, outcome in await _perform_group(group, fresh):
                outcomes[performer.action.id] = outcome
        scans = {p.finding.scan_id for p in performers if p.hid and p.finding and p.finding.scan_id}
        if scans and scan_counts:
            await count_late_hides(uow, tenant_id, scans)
    return [outcomes[a] for a in action_ids]


async def _perform_group(
    performers: Sequence[_Performer], fresh: Collection[uuid.UUID]
) -> list[tuple[_Performer, ActionOutcome]]:
    """Prepare each action (database), make all the platform calls concurrently (no database
    inside: the session is not shared across tasks), then record each result (database)."""
    results: list[tuple[_Performer, ActionOutcome]] = []
    calling: list[_Performer] = []
    for performer in performers:
        early = await performer.prepare()
        if early is not None:
            results.append((performer, early))
        else:
            calling.append(performer)
    if not calling:
        return results
    errors = await _call_platform(calling, fresh)
    for performer in calling:
        error = errors.get(performer.action.id)
        results.append((performer, await performer.settle(error)))
    return results


async def _call_platform(
    performers: Sequence[_Performer], fresh: Collection[uuid.UUID]
) -> dict[uuid.UUID, BaseException]:
    """Every performer's platform calls; returns the errors by action id. Facebook hides and
    unhides that need no look at the platform first go to Graph in batch requests (one
    round trip for a backfill page's hides); the rest are called one by one, a few at once."""
    errors: dict[uuid.UUID, BaseException] = {}
    batches: dict[tuple[str, bool], list[_Performer]] = {}
    singles: list[tuple[_Performer, bool]] = []
    for performer in performers:
        # Any attempt but the first of a freshly committed row reads the platform first.
        verify = performer.action.id not in fresh or performer.action.attempts > 1
        if performer.batchable(verify=verify):
            hidden = performer.action.kind is ActionKind.HIDE
            batches.setdefault((performer.token, hidden), []).append(performer)
        else:
            singles.append((performer, verify))
    limit = asyncio.Semaphore(ACTION_CONCURRENCY)

    async def call(performer: _Performer, verify: bool) -> None:
        async with limit:
            try:
                await performer.call(verify=verify)
            except Exception as exc:
                errors[performer.action.id] = exc

    async def batch(token: str, hidden: bool, group: list[_Performer]) -> None:
        graph = group[0].pctx.graph
        try:
            answers = await graph.hide_comments([p.action.comment_id for p in group], token, hidden)
        except (platform.TokenInvalid, platform.RateLimited) as exc:
            # The token or the quota, not the batch: every single call would get the same.
            errors.update((p.action.id, exc) for p in group)
            return
        except Exception as exc:
            # The batch itself was refused or lost (a batch-level 4xx, a timeout): each
            # operation goes again as a call of its own, reading the platform first, since
            # a batch cut off midway may have carried out some of them.
            log.warning("batch_fallback", actions=len(group), error=type(exc).__name__)
            await asyncio.gather(*(call(p, True) for p in group))
            return
        for performer, answer in zip(group, answers, strict=True):
            if isinstance(answer, BaseException):
                errors[performer.action.id] = answer
            elif not answer:
                errors[performer.action.id] = platform.PlatformBadRequest(
                    "the platform did not confirm the change"
                )

    for key, group in list(batches.items()):
        if len(group) == 1:  # a real-time hide: the plain call, no batch around it
            singles.append((group[0], False))
            del batches[key]
    await asyncio.gather(
        *(call(p, verify) for p, verify in singles),
        *(batch(token, hidden, group) for (token, hidden), group in batches.items()),
    )
    return errors


# A reply waits for its hide; this is how long before it looks again.
_REPLY_WAIT_SECONDS = 5.0


def reply_target(finding: Finding) -> str:
    """Facebook threads are two levels deep: a reply to a reply goes under its top comment."""
    if finding.parent_id and finding.post_id and finding.parent_id != finding.post_id:
        return finding.parent_id
    return finding.comment_id


class ReplyWriter:
    """Writes the reply to a finding from its connection's policy and client, read once per
    connection for a whole batch of actions (a backfill page's twenty replies share them)."""

    def __init__(self, uow: UnitOfWork, tenant_id: TenantId) -> None:
        self.uow = uow
        self.tenant_id = tenant_id
        self._settings: dict[uuid.UUID, tuple[EffectivePolicy, Client | None]] = {}

    async def text(self, connection: Connection, finding: Finding) -> str:
        settings = self._settings.get(connection.id)
        if settings is None:
            settings = self._settings[connection.id] = (
                await effective_policy(self.uow, self.tenant_id, connection),
                await ClientRepository(self.uow.session).get(self.tenant_id, connection.client_id),
            )
        policy, client = settings
        # Without a guess of the commenter's language: the page's, from its settings or its
        # country (a reply in a language the page does not use would read as a mistake).
        language = choose_language(
            policy,
            finding.language,
            connection.default_language,
            client.default_language if client else None,
            country_language(connection.country),
            country_language(client.country) if client else None,
        )
        # Without a configured channel, the page's Messenger link is the private way in.
        channel = (client.private_channel_url if client else None) or (
            f"https://m.me/{connection.external_id}"
        )
        return render_reply(
            policy.reply_templates[language],
            private_channel_url=channel,
            client_name=client.name if client else connection.name,
        )


class _Performer:
    """One action through a batch: ``prepare`` (database), ``call`` (platform only),
    ``settle`` (database: the result, its audit event)."""

    def __init__(
        self,
        pctx: PipelineContext,
        uow: UnitOfWork,
        tenant_id: TenantId,
        connection: Connection,
        action: ModerationAction,
        finding: Finding | None,
        replies: ReplyWriter,
    ) -> None:
        self.pctx = pctx
        self.replies = replies
        self.uow = uow
        self.tenant_id = tenant_id
        self.connection = connection
        self.action = action
        self.finding = finding
        self.token = ""
        self._reply_text = ""
        # This batch hid the comment on the platform (or found it hidden).
        self.hid = False
        # What the platform already showed (hidden as wanted, reply already posted).
        self._already = False

    def _outcome(
        self, result: Result, *, retry_after: float | None = None, error: str | None = None
    ) -> ActionOutcome:
        return ActionOutcome(
            action_id=self.action.id, result=result, retry_after=retry_after, error=error
        )

    async def prepare(self) -> ActionOutcome | None:
        """Everything the call needs from the database; an outcome when there is no call."""
        action = self.action
        if self.connection.status is not ConnectionStatus.ACTIVE:
            # An earlier action of this batch found the token dead.
            return self._outcome("waiting", error="needs_reauth")
        if action.kind is ActionKind.REPLY:
            waiting = await self._reply_precondition()
            if waiting is not None:
                return waiting
        try:
            self.token = page_token(self.pctx.cipher, self.connection)
        except NoPageToken:
            await mark_needs_reauth(self.uow, self.connection, "no page token stored", ACTOR)
            return self._outcome("waiting", error="needs_reauth")
        if action.kind is ActionKind.REPLY and action.result_id is None:
            if self.finding is None:
                return await self._fail("a reply needs its finding")
            self._reply_text = await self.replies.text(self.connection, self.finding)
        action.attempts += 1
        return None

    def batchable(self, *, verify: bool) -> bool:
        """Whether this action's one platform call can go into a Graph batch request."""
        return (
            not verify
            and self.action.kind in {ActionKind.HIDE, ActionKind.UNHIDE}
            and self.connection.platform is Platform.FACEBOOK
        )

    async def call(self, *, verify: bool) -> None:
        """The platform calls, and nothing else: many run at once on one session."""
        if self.action.kind is ActionKind.REPLY:
            await self._reply_call()
        else:
            await self._hide_call(hidden=self.action.kind is ActionKind.HIDE, verify=verify)

    async def settle(self, error: BaseException | None) -> ActionOutcome:
        action = self.action
        if error is None:
            if action.kind is ActionKind.REPLY:
                self._replied()
            else:
                self._hidden(hidden=action.kind is ActionKind.HIDE)
            return self._outcome("done")
        if isinstance(error, platform.TokenInvalid):
            action.last_error = describe(error)
            await mark_needs_reauth(
                self.uow, self.connection, "the platform refused the page token", ACTOR
            )
            return self._outcome("waiting", error="needs_reauth")
        if isinstance(error, platform.RateLimited):
            delay = min(max(error.retry_after, 1.0), self.pctx.config.max_defer_seconds)
            return await self._transient(describe(error), delay)
        if isinstance(error, platform.PlatformUnavailable):
            return await self._transient(describe(error), backoff(action.attempts))
        if isinstance(error, platform.PlatformNotFound):
            return await self._fail(describe(error))  # the comment is gone
        if isinstance(error, platform.PlatformError) and action.kind is not ActionKind.REPLY:
            # A hide refused (a 4xx, an unexpected shape) is not given up on the first answer:
            # Meta answers 4xx for passing reasons too. Retried with back-off; after
            # max_attempts the finding turns hide_failed with a comment.hide_failed audit event.
            return await self._transient(describe(error), backoff(action.attempts))
        if isinstance(error, platform.PlatformError):
            # A reply refused: posting it again would not change the answer.
            return await self._fail(describe(error))
        # A bug or a broken connection: this action's attempt, retried like a transient error
        # (and failed for good after max_attempts), so a poison action cannot loop forever.
        log.error("action_call_error", action_id=str(action.id), error=type(error).__name__)
        return await self._transient(
            f"unexpected error: {type(error).__name__}", backoff(action.attempts)
        )

    async def _reply_precondition(self) -> ActionOutcome | None:
        """A reply says the comment was hidden: it waits for the hide and never outlives it."""
        hide = (
            await ActionRepository(self.uow.session).for_comment(
                self.tenant_id, self.connection.id, self.action.comment_id
            )
        ).get(ActionKind.HIDE)
        if hide is not None and hide.status is ActionStatus.DONE:
            return None
        if hide is None or hide.status is ActionStatus.FAILED:
            return await self._fail("the comment was not hidden, so no reply is posted")
        return self._outcome("retry", retry_after=_REPLY_WAIT_SECONDS)

    async def _transient(self, error: str, delay: float) -> ActionOutcome:
        if self.action.attempts >= self.pctx.config.max_attempts:
            attempts = self.action.attempts
            return await self._fail(f"gave up after {attempts} attempts: {error}")
        self.action.last_error = error[:500]
        return self._outcome("retry", retry_after=delay, error=self.action.last_error)

    async def _fail(self, error: str) -> ActionOutcome:
        action, finding = self.action, self.finding
        action.status = ActionStatus.FAILED
        action.last_error = error[:500]
        if (
            finding is not None
            and action.kind is ActionKind.HIDE
            and finding.status is FindingStatus.PENDING_HIDE
        ):
            finding.status = FindingStatus.HIDE_FAILED
        _record_settled(
            self.uow,
            action,
            finding,
            f"comment.{action.kind.value}_failed",
            ACTOR,
            {"error": action.last_error},
        )
        comment_event(self.uow, action, finding, self.connection, done=False)
        log.warning(
            "moderation_failed",
            action_id=str(action.id),
            kind=action.kind.value,
            error=action.last_error,
        )
        return self._outcome("failed", error=action.last_error)

    async def _hide_call(self, *, hidden: bool, verify: bool) -> None:
        graph, action = self.pctx.graph, self.action
        instagram = self.connection.platform is Platform.INSTAGRAM
        if verify:
            # A previous attempt may have reached the platform before its commit was lost.
            if instagram:
                state = (await graph.get_ig_comment(action.comment_id, self.token)).hidden
            else:
                state = (await graph.get_comment(action.comment_id, self.token)).is_hidden
            self._already = state is hidden
        if self._already:
            return
        if instagram:
            confirmed = await graph.hide_ig_comment(action.comment_id, self.token, hidden)
        else:
            confirmed = await graph.hide_comment(action.comment_id, self.token, hidden)
        if not confirmed:
            raise platform.PlatformBadRequest("the platform did not confirm the change")

    def _hidden(self, *, hidden: bool) -> None:
        action, finding = self.action, self.finding
        if hidden:
            self.hid = finding is not None
            record_hidden(self.uow, action, finding, self.connection, already=self._already)
            return
        _done(action)
        if finding is not None:
            finding.status = FindingStatus.UNHIDDEN
        _record_settled(
            self.uow,
            action,
            finding,
            "comment.unhidden",
            action.requested_by,
            {"already": self._already},
        )
        comment_event(self.uow, action, finding, self.connection, done=True)

    async def _reply_call(self) -> None:
        graph, action = self.pctx.graph, self.action
        if action.result_id is not None or self.finding is None:
            return  # posted by an attempt whose commit got through: only the record is left
        target = reply_target(self.finding)
        # A previous attempt may have posted before its commit was lost: look first.
        comments, _ = await graph.comments_page(
            target, self.token, filter="toplevel", order="reverse_chronological", limit=100
        )
        previous = next(
            (
                c
                for c in comments
                if c.from_id == self.connection.external_id
                and (c.message or "").strip() == self._reply_text
            ),
            None,
        )
        self._already = previous is not None
        action.result_id = (
            previous.id
            if previous is not None
            else await graph.reply_to(target, self.token, self._reply_text)
        )

    def _replied(self) -> None:
        action, finding = self.action, self.finding
        now = _done(action)
        if finding is not None:
            finding.replied_at = now
        _record_settled(
            self.uow, action, finding, "comment.replied", ACTOR, {"reply_id": action.result_id}
        )
        comment_event(self.uow, action, finding, self.connection, done=True)


async def record_action_error(
    pctx: PipelineContext, tenant_id: TenantId, action_id: uuid.UUID, error: str
) -> None:
    """An unexpected error: count the attempt; after too many, the action fails for good (so a
    poison action is not sent again forever by reconcile)."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        action = await ActionRepository(uow.session).lock(tenant_id, action_id)
        if action is None or action.status is not ActionStatus.PENDING:
            return
        action.attempts += 1
        action.last_error = error[:500]
        if action.attempts >= pctx.config.max_attempts:
            action.status = ActionStatus.FAILED
            connection = await ConnectionRepository(uow.session).get(
                tenant_id, action.connection_id
            )
            finding = (
                await FindingRepository(uow.session).get(tenant_id, action.finding_id)
                if action.finding_id is not None
                else None
            )
            if connection is not None:
                comment_event(uow, action, finding, connection, done=False)


# --- what the tenant's webhook endpoints are told ---------------------------------------------

_COMMENT_EVENTS = {
    (ActionKind.HIDE, True): EventType.COMMENT_HIDDEN,
    (ActionKind.HIDE, False): EventType.COMMENT_HIDE_FAILED,
    (ActionKind.UNHIDE, True): EventType.COMMENT_UNHIDDEN,
    (ActionKind.REPLY, True): EventType.COMMENT_REPLIED,
}


def record_hidden(
    uow: UnitOfWork,
    action: ModerationAction,
    finding: Finding | None,
    connection: Connection,
    *,
    already: bool,
) -> None:
    """The comment is hidden on the platform (by this hide, or before it: ``already``): the hide
    action is done, its finding hidden, the audit trail and the tenant's endpoints told."""
    now = _done(action)
    if finding is not None:
        finding.hidden_at = now
        if finding.status in {FindingStatus.PENDING_HIDE, FindingStatus.HIDE_FAILED}:
            finding.status = FindingStatus.HIDDEN
    _record_settled(uow, action, finding, "comment.hidden", ACTOR, {"already": already})
    comment_event(uow, action, finding, connection, done=True)


def _done(action: ModerationAction) -> datetime:
    """The action is done now; returns when."""
    now = utcnow()
    action.status = ActionStatus.DONE
    action.done_at = now
    action.last_error = None
    return now


def _record_settled(
    uow: UnitOfWork,
    action: ModerationAction,
    finding: Finding | None,
    what: str,
    actor: str,
    extra: dict[str, Any],
) -> None:
    """The audit event of an action settled (done or failed), about its finding if it has one."""
    record(
        uow,
        uow.tenant,
        actor=actor,
        action=what,
        subject_type="finding" if finding is not None else "comment",
        subject_id=finding.id if finding is not None else action.comment_id,
        data={
            "action_id": str(action.id),
            "comment_id": action.comment_id,
            "connection_id": str(action.connection_id),
            **extra,
        },
    )


def comment_event(
    uow: UnitOfWork,
    action: ModerationAction,
    finding: Finding | None,
    connection: Connection,
    *,
    done: bool,
) -> None:
    """An action settled: done (comment.hidden / unhidden / replied) or failed for good
    (comment.hide_failed; a failed unhide or reply has no event), in the unit of work that
    records it."""
    event_type = _COMMENT_EVENTS.get((action.kind, done))
    if event_type is None:
        return
    emit(
        uow,
        uow.tenant,
        event_type,
        CommentEventData(
            tenant_id=uow.tenant,
            client_id=connection.client_id,
            connection_id=connection.id,
            finding_id=finding.id if finding is not None else action.finding_id,
            action_id=action.id,
            platform=connection.platform,
            post_id=finding.post_id if finding is not None else None,
            comment_id=action.comment_id,
            finding_status=finding.status if finding is not None else None,
            error=None if done else action.last_error,
            reply_id=action.result_id if action.kind is ActionKind.REPLY else None,
            occurred_at=action.done_at or utcnow(),
            url=api_url(uow.public_url, f"/v1/findings/{finding.id}") if finding else None,
        ),
        client_id=connection.client_id,
    )
