from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from service.inputs import instant_problem
from service.scanning.models import ScanStatus

AwareDatetime = Annotated[dt.datetime, msgspec.Meta(tz=True, examples=["2025-01-01T00:00:00Z"])]


class ScanCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    connection_id: uuid.UUID
    # Only posts created in [since, until] are scanned (all their comments, whatever their age).
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    def __post_init__(self) -> None:
        # Year 1 parses, but the scan's arithmetic overflows and PostgreSQL stores -infinity.
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (problem := instant_problem(value)) is not None:
                raise ValueError(f"{name} {problem}")


class Scan(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    connection_id: uuid.UUID
    status: ScanStatus
    since: dt.datetime | None
    until: dt.datetime | None
    posts_scanned: int
    comments_scanned: int
    # Comments with personal data, and how many of them this scan hid.
    findings: int
    hidden: int
    errors: int
    # Comments per second since the scan first started (null before it starts).
    rate: float | None
    last_error: str | None
    requested_by: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ScanList(msgspec.Struct, kw_only=True):
    items: list[Scan]
    next_cursor: str | None


class Checkpoint(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a scan resumes: platform cursors and ids only, never content.

    ``feed_cursor`` fetches the feed page being worked on (None: the first one), ``post_id`` is
    the post of that page to resume at (None: its first post), ``comment_cursor`` the position
    in that post's comments (None: from the start). ``wait_until`` (unix seconds) is set while
    the scan waits out a rate limit, so the reconcile cron leaves it to arq's deferred retry.
    """

    feed_cursor: str | None = None
    post_id: str | None = None
    comment_cursor: str | None = None
    wait_until: float | None = None
