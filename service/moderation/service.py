"""Performing moderation actions on the platform, each exactly once.

An action is a row (pending -> done | failed), unique per comment and kind, written and committed
before the platform is called. Performing one locks its row (``FOR UPDATE SKIP LOCKED``: a second
worker on the same action backs off), calls the platform and records the result in the same
transaction. Because a crash can fall between the platform's answer and that commit, any attempt
that is not the first of a freshly committed row checks the platform first: a comment already
hidden is not hidden again, and a reply the page already posted under the comment is recorded
instead of posted twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog

from service.audit.service import record
from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.db import UnitOfWork, utcnow
from service.errors import NotFound as NoToken
from service.findings.models import Finding, FindingStatus
from service.findings.repository import FindingRepository
from service.locales import Language
from service.moderation.models import ActionKind, ActionStatus, ModerationAction
from service.moderation.repository import ActionRepository
from service.moderation.schemas import ActionOutcome, Result
from service.platforms import errors as platform
from service.policies.schemas import EffectivePolicy
from service.policies.service import effective_policy
from service.tenancy.repository import ClientRepository

if TYPE_CHECKING:
    from service.workers.pipeline_context import PipelineContext

log = structlog.get_logger(__name__)

ACTOR = "system:pipeline"
# The worker job that performs one action (service/workers/realtime.py), and its arq job id.
EXECUTE_ACTION_JOB = "execute_action"


def action_job_id(action_id: uuid.UUID | str) -> str:
    return f"action:{action_id}"


# A reply waits for its hide; this is how long before it looks again.
_REPLY_WAIT_SECONDS = 5.0


def describe(exc: platform.PlatformError) -> str:
    """An error for last_error: Graph's numbers only. Its message can quote request content."""
    return (f"{type(exc).__name__} (http {exc.status}, code {exc.code}, subcode {exc.subcode})")[
        :500
    ]


def backoff(attempt: int) -> float:
    return float(min(300, 5 * 2 ** max(0, attempt - 1)))


def reply_target(finding: Finding) -> str:
    """Facebook threads are two levels deep: a reply to a reply goes under its top comment."""
    if finding.parent_id and finding.post_id and finding.parent_id != finding.post_id:
        return finding.parent_id
    return finding.comment_id


def choose_language(
    policy: EffectivePolicy, comment_language: str | None, *fallbacks: str | None
) -> str:
    """The commenter's language when there is a template for it, else the page's default."""
    for candidate in (comment_language, policy.default_language, *fallbacks):
        if candidate and candidate in policy.reply_templates:
            return candidate
    return Language.EN.value


def render_reply(template: str, *, private_channel_url: str, client_name: str) -> str:
    # Plain replacement, not str.format: a template is tenant input.
    return (
        template.replace("{private_channel_url}", private_channel_url)
        .replace("{client_name}", client_name)
        .strip()
    )


async def reply_text(
    uow: UnitOfWork, tenant_id: TenantId, connection: Connection, finding: Finding
) -> str:
    policy = await effective_policy(uow, tenant_id, connection)
    client = await ClientRepository(uow.session).get(tenant_id, connection.client_id)
    language = choose_language(
        policy,
        finding.language,
        connection.default_language,
        client.default_language if client else None,
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


async def perform_action(
    pctx: PipelineContext, tenant_id: TenantId, action_id: uuid.UUID, *, fresh: bool = False
) -> ActionOutcome:
    """Perform one pending action. ``fresh``: the row was committed moments ago by the caller,
    which has not called the platform for it, so its state need not be read first."""
    async with pctx.db.unit_of_work(tenant_id) as uow:
        action = await ActionRepository(uow.session).lock(tenant_id, action_id)
        if action is None:
            exists = await ActionRepository(uow.session).get(tenant_id, action_id)
            return ActionOutcome(
                action_id=action_id, result="busy" if exists is not None else "not_pending"
            )
        if action.status is not ActionStatus.PENDING:
            return ActionOutcome(action_id=action_id, result="not_pending")
        connection = await ConnectionRepository(uow.session).get(tenant_id, action.connection_id)
        if connection is None:
            return ActionOutcome(action_id=action_id, result="not_pending")
        if connection.status is not ConnectionStatus.ACTIVE:
            # Nothing platform-side while paused or unauthorised; reconcile resumes it later.
            return ActionOutcome(
                action_id=action_id, result="waiting", error=connection.status.value
            )
        finding = (
            await FindingRepository(uow.session).lock(tenant_id, action.finding_id)
            if action.finding_id is not None
            else None
        )
        performer = _Performer(pctx, uow, tenant_id, connection, action, finding)
        outcome = await performer.run(verify=not fresh or action.attempts > 0)
    return outcome


class _Performer:
    def __init__(
        self,
        pctx: PipelineContext,
        uow: UnitOfWork,
        tenant_id: TenantId,
        connection: Connection,
        action: ModerationAction,
        finding: Finding | None,
    ) -> None:
        self.pctx = pctx
        self.uow = uow
        self.tenant_id = tenant_id
        self.connection = connection
        self.action = action
        self.finding = finding

    def _outcome(
        self, result: Result, *, retry_after: float | None = None, error: str | None = None
    ) -> ActionOutcome:
        return ActionOutcome(
            action_id=self.action.id, result=result, retry_after=retry_after, error=error
        )

    async def run(self, *, verify: bool) -> ActionOutcome:
        action = self.action
        if action.kind is ActionKind.REPLY:
            waiting = await self._reply_precondition()
            if waiting is not None:
                return waiting
        try:
            token = page_token(self.pctx.cipher, self.connection)
        except NoToken:
            await mark_needs_reauth(self.uow, self.connection, "no page token stored", ACTOR)
            return self._outcome("waiting", error="needs_reauth")
        action.attempts += 1
        try:
            if action.kind is ActionKind.REPLY:
                await self._reply(token)
            else:
                await self._set_hidden(token, hidden=action.kind is ActionKind.HIDE, verify=verify)
        except platform.TokenInvalid as exc:
            action.last_error = describe(exc)
            await mark_needs_reauth(
                self.uow, self.connection, "the platform refused the page token", ACTOR
            )
            return self._outcome("waiting", error="needs_reauth")
        except platform.RateLimited as exc:
            delay = min(max(exc.retry_after, 1.0), self.pctx.config.max_defer_seconds)
            return await self._transient(exc, delay)
        except platform.PlatformUnavailable as exc:
            return await self._transient(exc, backoff(action.attempts))
        except platform.PlatformError as exc:
            # NotFound, BadRequest, PermissionMissing, unexpected shapes: retrying won't help.
            return await self._fail(describe(exc))
        return self._outcome("done")

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

    async def _transient(self, exc: platform.PlatformError, delay: float) -> ActionOutcome:
        if self.action.attempts >= self.pctx.config.max_attempts:
            attempts = self.action.attempts
            return await self._fail(f"gave up after {attempts} attempts: {describe(exc)}")
        self.action.last_error = describe(exc)
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
        await record(
            self.uow,
            self.tenant_id,
            actor=ACTOR,
            action=f"comment.{action.kind.value}_failed",
            subject_type="finding" if finding is not None else "comment",
            subject_id=finding.id if finding is not None else action.comment_id,
            data={
                "action_id": str(action.id),
                "comment_id": action.comment_id,
                "connection_id": str(action.connection_id),
                "error": action.last_error,
            },
        )
        log.warning(
            "moderation_failed",
            action_id=str(action.id),
            kind=action.kind.value,
            error=action.last_error,
        )
        return self._outcome("failed", error=action.last_error)

    async def _set_hidden(self, token: str, *, hidden: bool, verify: bool) -> None:
        graph, action = self.pctx.graph, self.action
        instagram = self.connection.platform is Platform.INSTAGRAM
        already = False
        if verify and not instagram:
            # A previous attempt may have reached the platform before its commit was lost.
            current = await graph.get_comment(action.comment_id, token)
            already = current.is_hidden is hidden
        if not already:
            if instagram:
                confirmed = await graph.hide_ig_comment(action.comment_id, token, hidden)
            else:
                confirmed = await graph.hide_comment(action.comment_id, token, hidden)
            if not confirmed:
                raise platform.BadRequest("the platform did not confirm the change")
        now = utcnow()
        action.status = ActionStatus.DONE
        action.done_at = now
        action.last_error = None
        finding = self.finding
        if finding is not None:
            if hidden:
                finding.hidden_at = now
                if finding.status in {FindingStatus.PENDING_HIDE, FindingStatus.HIDE_FAILED}:
                    finding.status = FindingStatus.HIDDEN
            else:
                finding.status = FindingStatus.UNHIDDEN
        await record(
            self.uow,
            self.tenant_id,
            actor=action.requested_by if not hidden else ACTOR,
            action="comment.hidden" if hidden else "comment.unhidden",
            subject_type="finding" if finding is not None else "comment",
            subject_id=finding.id if finding is not None else action.comment_id,
            data={
                "action_id": str(action.id),
                "comment_id": action.comment_id,
                "connection_id": str(action.connection_id),
                "already": already,
            },
        )

    async def _reply(self, token: str) -> None:
        graph, action, finding = self.pctx.graph, self.action, self.finding
        if finding is None:
            raise platform.BadRequest("a reply needs its finding")
        if action.result_id is None:
            text = await reply_text(self.uow, self.tenant_id, self.connection, finding)
            target = reply_target(finding)
            # A previous attempt may have posted before its commit was lost: look first.
            comments, _ = await graph.comments_page(
                target, token, filter="toplevel", order="reverse_chronological", limit=100
            )
            previous = next(
                (
                    c
                    for c in comments
                    if c.from_id == self.connection.external_id
                    and (c.message or "").strip() == text
                ),
                None,
            )
            action.result_id = (
                previous.id if previous is not None else await graph.reply_to(target, token, text)
            )
        now = utcnow()
        action.status = ActionStatus.DONE
        action.done_at = now
        action.last_error = None
        finding.replied_at = now
        await record(
            self.uow,
            self.tenant_id,
            actor=ACTOR,
            action="comment.replied",
            subject_type="finding",
            subject_id=finding.id,
            data={
                "action_id": str(action.id),
                "comment_id": action.comment_id,
                "reply_id": action.result_id,
                "connection_id": str(action.connection_id),
            },
        )


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
