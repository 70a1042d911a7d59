from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import msgspec


class AuditOrder(enum.StrEnum):
    NEWEST_FIRST = "newest_first"
    # Chain order (oldest first), e.g. for exporting to another store.
    SEQ = "seq"


class AuditEvent(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    # Position in the tenant's chain: 1, 2, 3 … without gaps (until retention removes the oldest).
    seq: int
    occurred_at: dt.datetime
    # `api_key:<id>`, `system:<job>` or `user:<id>`.
    actor: str
    action: str
    subject_type: str
    subject_id: str
    # Ids, statuses and masked forms only: never personal data.
    data: dict[str, Any]
    # sha256(prev_hash || canonical event), hex.
    prev_hash: str
    hash: str


class AuditEventList(msgspec.Struct, kw_only=True):
    items: list[AuditEvent]
    next_cursor: str | None


class AuditChainReport(msgspec.Struct, kw_only=True):
    """The result of walking the tenant's hash chain from its oldest retained event."""

    valid: bool
    events: int
    first_seq: int | None
    last_seq: int | None
    # The first event whose hash or link does not match, when the chain is broken.
    broken_at_seq: int | None
    reason: str | None
    # Where the retained chain starts: 0 (its genesis) until retention removed the oldest events;
    # then the seq of the last removed event, whose hash the first retained event links to.
    anchor_seq: int
    checked_at: dt.datetime
