from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    ARRAY,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum

EXCERPT_PURPOSE = "finding_excerpt"


class FindingStatus(enum.StrEnum):
    HIDDEN = "hidden"  # hidden on the platform by Wallguard
    MONITORED = "monitored"  # policy is monitor-only: recorded, left visible
    REPORTED = "reported"  # the company's own reply: reported, never hidden
    PENDING_HIDE = "pending_hide"
    HIDE_FAILED = "hide_failed"
    UNHIDDEN = "unhidden"  # restored after review
    CONFIRMED = "confirmed"  # reviewed and confirmed


class FindingSource(enum.StrEnum):
    REALTIME = "realtime"
    POLL = "poll"
    SCAN = "scan"


class Finding(TenantOwned, Base):
    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "comment_id"),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        Index("ix_findings_tenant_created", "tenant_id", "id"),
        Index("ix_findings_fingerprints", "fingerprints", postgresql_using="gin"),
        # The retention purge and erasure walk by these.
        Index("ix_findings_tenant_id_received_at", "tenant_id", "received_at"),
        Index(
            "ix_findings_tenant_id_author_id",
            "tenant_id",
            "author_id",
            postgresql_where="author_id IS NOT NULL",
        ),
        # A scan's findings, counted when it ends and when a deferred hide lands after that.
        Index(
            "ix_findings_tenant_id_scan_id",
            "tenant_id",
            "scan_id",
            postgresql_where="scan_id IS NOT NULL",
        ),
    )

    connection_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    comment_id: Mapped[str] = mapped_column(String(128))
    post_id: Mapped[str | None] = mapped_column(String(128))
    parent_id: Mapped[str | None] = mapped_column(String(128))
    permalink_url: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(String(64))
    by_page: Mapped[bool] = mapped_column(default=False)
    types: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    # [{"type", "start", "end", "score", "masked"}]: offsets and masked forms only.
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # The comment with every finding replaced by its masked form, cut to a short excerpt.
    # Encrypted (service.crypto, purpose "finding_excerpt"): the other words of a customer's
    # comment can be personal data too (names), so even the masked excerpt is not kept in clear.
    masked_excerpt_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # Keyed hashes (per-tenant HMAC) of the normalised values: repeat and erasure matching.
    fingerprints: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    max_score: Mapped[float]
    language: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[FindingStatus] = mapped_column(str_enum(FindingStatus, "finding_status"))
    source: Mapped[FindingSource] = mapped_column(str_enum(FindingSource, "finding_source"))
    scan_id: Mapped[uuid.UUID | None]
    comment_created_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime]
    hidden_at: Mapped[dt.datetime | None]
    replied_at: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
