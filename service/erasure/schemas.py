from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from service.connections.models import Platform
from service.detection import EntityType
from service.erasure.models import ErasureStatus
from service.findings.models import FindingStatus

AuthorId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_.:-]+$",
        description="The author's id on the platform (as in a finding's `author_id`)",
    ),
]


class ErasureRequestCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Either `platform` and `author_id`, or `finding_id` (that finding's author, or only its
    comment when the author is unknown)."""

    platform: Platform | None = None
    author_id: AuthorId | None = None
    finding_id: uuid.UUID | None = None
    # Also delete the author's comments on the page (not just hide them), through the platform.
    delete_on_platform: bool = False


class ErasureRequest(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    status: ErasureStatus
    platform: Platform | None
    # The keyed hash the tombstone holds: the request never shows the author id again.
    author_ref: str | None
    finding_id: uuid.UUID | None
    delete_on_platform: bool
    # Per kind, once completed: findings, inbox_events, moderation_actions, tracked_comments,
    # tombstones, platform_comments_deleted, platform_delete_failed.
    counts: dict[str, int]
    last_error: str | None
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ErasureRequestList(msgspec.Struct, kw_only=True):
    items: list[ErasureRequest]
    next_cursor: str | None


class SubjectEntity(msgspec.Struct, kw_only=True):
    type: EntityType
    masked: str


class SubjectFinding(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    comment_id: str
    permalink_url: str | None
    types: list[EntityType]
    entities: list[SubjectEntity]
    masked_excerpt: str
    status: FindingStatus
    received_at: dt.datetime


class SubjectData(msgspec.Struct, kw_only=True):
    """Everything held about one author, masked, for answering an access request (art. 15)."""

    platform: Platform
    author_ref: str
    # An erasure request for this author was made: nothing new is collected about them.
    erased: bool
    findings: list[SubjectFinding]
    # More findings exist than listed (the first 500 are).
    truncated: bool
    # Webhook events from this author still held (their text is cleared once processed).
    inbox_events: int
    # Hides and replies recorded on this author's comments.
    moderation_actions: int
    erasure_requests: list[uuid.UUID]
