from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from service.detection import EntityType
from service.findings.models import FindingSource, FindingStatus
from service.locales import Language
from service.moderation.schemas import ModerationAction


class Entity(msgspec.Struct, kw_only=True):
    """One value found in the comment: where, what kind, how sure, and its masked form."""

    type: EntityType
    start: int
    end: int
    score: float
    masked: str


class Finding(msgspec.Struct, kw_only=True):
    """Personal data found in a comment. Never the comment's text or a raw value: the excerpt
    is masked, and ``fingerprints`` are keyed hashes for matching repeats and erasure requests."""

    id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    comment_id: str
    post_id: str | None
    parent_id: str | None
    permalink_url: str | None
    author_id: str | None
    by_page: bool
    types: list[EntityType]
    entities: list[Entity]
    masked_excerpt: str
    fingerprints: list[str]
    max_score: float
    language: Language | None
    status: FindingStatus
    source: FindingSource
    scan_id: uuid.UUID | None
    comment_created_at: dt.datetime | None
    received_at: dt.datetime
    hidden_at: dt.datetime | None
    replied_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    reviewed_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FindingList(msgspec.Struct, kw_only=True):
    items: list[Finding]
    next_cursor: str | None


class UnhideAccepted(msgspec.Struct, kw_only=True):
    """The unhide is recorded and queued; ``action`` shows where it stands (the finding turns
    ``unhidden`` once the platform confirms)."""

    finding: Finding
    action: ModerationAction
