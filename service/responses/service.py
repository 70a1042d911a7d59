"""Response times: what the pipeline records per comment, and the reports over it.

``observe_comments`` is the pipeline's one call (service/pipeline/comments.py, for webhook, poll
and scan alike): one ``INSERT ... ON CONFLICT DO NOTHING`` of ids and times for the batch, in the
caller's unit of work, and nothing else, so time to hide does not wait on service-hour
arithmetic. The tracker (steps.py, a cron) applies the terms and links replies afterwards.

Definitions (README "Response times and storms"):
- A *customer comment* is a comment with text on a connected page whose author is not the page.
- The page *answers* it with its first reply in the same thread made at or after it: a reply to
  the comment itself, or a page reply under the same top-level comment (platforms keep threads
  two levels deep, so a reply in a thread answers everyone who wrote in it before).
- Its *response time* is the time from comment to first reply that fell within the service hours
  in force when it was tracked (service/servicehours/arithmetic.py).
- The *deadline* is the last instant a reply keeps the promised first response; the promise is
  *broken* when the first reply comes later, or none has come by then.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from service.auth.types import Principal, TenantId
from service.connections.models import Connection
from service.db import UnitOfWork, utcnow
from service.errors import FieldError, InvalidCursor, ValidationFailed
from service.platforms.comments import CommentView
from service.responses import schemas
from service.responses.models import TrackedComment
from service.responses.repository import ResponseRepository, Scope
from service.servicehours.arithmetic import service_seconds
from service.servicehours.service import DEFAULT_TERMS, Terms, terms_for
from service.webhooks.events import EventType, ResponseOverdueEventData
from service.webhooks.service import api_url, emit

DEFAULT_WINDOW = dt.timedelta(days=30)
MAX_WINDOW = dt.timedelta(days=400)
UNANSWERED_PATH = "/v1/unanswered"


def thread_of(comment: CommentView) -> str:
    """The top-level comment a comment hangs under (itself when it is top-level: its parent is
    the post, or unknown)."""
    parent = comment.parent_id
    if parent is None or parent == comment.post_id:
        return comment.comment_id
    return parent


def by_page(connection: Connection, comment: CommentView) -> bool:
    return comment.author_id is not None and comment.author_id == connection.external_id


async def observe_comments(
    uow: UnitOfWork,
    connection: Connection,
    comments: Sequence[CommentView],
    *,
    received_at: dt.datetime,
) -> None:
    """Record the customer comments and page replies among ``comments`` (ids and times), once
    each. The pipeline hands over comments with text only, after dropping erased ones."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for comment in comments:
        if not comment.comment_id or comment.comment_id in seen:
            continue
        own = by_page(connection, comment)
        if not own and not (comment.message and comment.message.strip()):
            continue
        seen.add(comment.comment_id)
        rows.append(
            {
                "tenant_id": uow.tenant,
                "connection_id": connection.id,
                "client_id": connection.client_id,
                "comment_id": comment.comment_id[:128],
                "post_id": comment.post_id[:128] if comment.post_id else None,
                "thread_id": thread_of(comment)[:128],
                "by_page": own,
                "commented_at": comment.created_time or received_at,
                "received_at": received_at,
            }
        )
    await ResponseRepository(uow.session).insert_new(rows)


def overdue_event(uow: UnitOfWork, row: TrackedComment, connection: Connection) -> None:
    """``response.overdue`` for one broken promise, to the tenant's webhook endpoints, in the
    unit of work that marks it."""
    if row.deadline_at is None or row.overdue_at is None:
        return  # not a broken promise
    emit(
        uow,
        uow.tenant,
        EventType.RESPONSE_OVERDUE,
        ResponseOverdueEventData(
            tenant_id=uow.tenant,
            client_id=row.client_id,
            connection_id=row.connection_id,
            tracked_comment_id=row.id,
            platform=connection.platform,
            post_id=row.post_id,
            comment_id=row.comment_id,
            commented_at=row.commented_at,
            promise_minutes=row.promise_minutes or 0,
            deadline_at=row.deadline_at,
            first_reply_at=row.first_reply_at,
            noticed_at=row.overdue_at,
            url=api_url(uow.public_url, f"{UNANSWERED_PATH}?connection_id={row.connection_id}"),
        ),
        client_id=row.client_id,
    )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def period(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """[since, until): by default the last 30 days, at most 400."""
    until = _aware(until) if until else now
    since = _aware(since) if since else until - DEFAULT_WINDOW
    if since >= until:
        raise ValidationFailed(
            "`since` must be before `until`.",
            errors=[FieldError(field="query.since", message="must be before until")],
        )
    if until - since > MAX_WINDOW:
        raise ValidationFailed(
            f"The window may span at most {MAX_WINDOW.days} days.",
            errors=[FieldError(field="query.since", message="window too long")],
        )
    return since, until


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _figures(row: dict[str, Any]) -> schemas.ResponseFigures:
    within, breached = int(row["within"]), int(row["breached"])
    return schemas.ResponseFigures(
        connection_id=row["connection_id"],
        client_id=row["client_id"],
        comments=int(row["comments"]),
        answered=int(row["answered"]),
        share_answered=_share(int(row["answered"]), int(row["comments"])),
        p50_seconds=_seconds(row["p50"]),
        p90_seconds=_seconds(row["p90"]),
        promised=int(row["promised"]),
        within_promise=within,
        breaches=breached,
        share_within_promise=_share(within, within + breached),
    )


def encode_cursor(commented_at: dt.datetime, row_id: uuid.UUID) -> str:
    raw = f"u1:{commented_at.isoformat()}|{row_id.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        text = raw.decode("ascii")
        if not text.startswith("u1:"):
            raise ValueError("version")
        when, _, row_id = text[3:].partition("|")
        return _aware(dt.datetime.fromisoformat(when)), uuid.UUID(hex=row_id)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(
            "The cursor is not one this API issued; start again without it."
        ) from None


class ResponseService:
    def __init__(self, uow: UnitOfWork, now: dt.datetime | None = None) -> None:
        self.uow = uow
        self.now = now or utcnow()
        self.responses = ResponseRepository(uow.session)

    def _scope(
        self,
        principal: Principal,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
    ) -> Scope:
        # A key restricted to one client sees that client's figures only, whatever it asks for.
        return Scope(
            client_id=client_id,
            connection_id=connection_id,
            restricted_to_client=principal.client_id,
        )

    async def response_times(
        self,
        principal: Principal,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
    ) -> schemas.ResponseTimes:
        start, end = period(since, until, self.now)
        rows = await self.responses.figures(
            principal.tenant_id,
            self._scope(principal, client_id, connection_id),
            start,
            end,
            self.now,
        )
        query = "&".join(
            f"{name}={value}"
            for name, value in (("client_id", client_id), ("connection_id", connection_id))
            if value is not None
        )
        return schemas.ResponseTimes(
            since=start,
            until=end,
            client_id=client_id,
            connection_id=connection_id,
            total=_figures(rows[0]),
            by_connection=[_figures(r) for r in rows[1:]],
            unanswered_url=UNANSWERED_PATH + (f"?{query}" if query else ""),
        )

    async def unanswered(
        self,
        principal: Principal,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.UnansweredPage:
        tenant_id = principal.tenant_id
        after = decode_cursor(cursor) if cursor else None
        rows = await self.responses.waiting(
            tenant_id, self._scope(principal, client_id, connection_id), after, limit
        )
        page, more = rows[:limit], len(rows) > limit
        terms = await self._terms(tenant_id, {r.connection_id for r in page})
        return schemas.UnansweredPage(
            items=[self._unanswered(r, terms) for r in page],
            next_cursor=encode_cursor(page[-1].commented_at, page[-1].id) if more else None,
        )

    async def _terms(
        self, tenant_id: TenantId, connection_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, Terms]:
        if not connection_ids:
            return {}
        connections = await self.responses.connections(tenant_id, connection_ids)
        return await terms_for(self.uow, tenant_id, connections)

    def _unanswered(
        self, row: TrackedComment, terms: dict[uuid.UUID, Terms]
    ) -> schemas.UnansweredComment:
        schedule = terms.get(row.connection_id, DEFAULT_TERMS).schedule
        now = self.now
        left: float | None = None
        if row.deadline_at is not None:
            left = (
                service_seconds(schedule, now, row.deadline_at)
                if row.deadline_at >= now
                else -service_seconds(schedule, row.deadline_at, now)
            )
        return schemas.UnansweredComment(
            id=row.id,
            connection_id=row.connection_id,
            client_id=row.client_id,
            comment_id=row.comment_id,
            post_id=row.post_id,
            commented_at=row.commented_at,
            waiting_seconds=round(service_seconds(schedule, row.commented_at, now), 1),
            deadline_at=row.deadline_at,
            time_left_seconds=None if left is None else round(left, 1),
            overdue=row.deadline_at is not None and row.deadline_at < now,
        )
