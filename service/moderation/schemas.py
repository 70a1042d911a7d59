from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import msgspec

from service.moderation.models import ActionKind, ActionStatus


class ModerationAction(msgspec.Struct, kw_only=True):
    """One hide, unhide or reply on the platform, and where it stands."""

    id: uuid.UUID
    finding_id: uuid.UUID | None
    connection_id: uuid.UUID
    comment_id: str
    kind: ActionKind
    status: ActionStatus
    attempts: int
    result_id: str | None
    last_error: str | None
    requested_by: str
    done_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


Result = Literal[
    "done",  # performed now (or found already done on the platform)
    "not_pending",  # done, failed or gone before this attempt: nothing to do
    "busy",  # another worker holds the row and is performing it
    "retry",  # transient: try again after ``retry_after`` seconds
    "waiting",  # the connection is paused or needs re-authorisation: left pending
    "failed",  # permanent: recorded with last_error
]


class ActionOutcome(msgspec.Struct, kw_only=True, frozen=True):
    action_id: uuid.UUID
    result: Result
    retry_after: float | None = None
    error: str | None = None
