from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum

AUTHOR_ID_PURPOSE = "erasure_author_id"


class ErasureStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class TombstoneKind(enum.StrEnum):
    AUTHOR = "author"
    COMMENT = "comment"


class ErasureRequest(TenantOwned, Base):
    """One request to forget an author (or a finding's author). The author id itself is kept
    only encrypted, and only until the request is done; ``author_ref`` (its keyed hash) stays."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index(
            "ix_erasure_requests_open",
            "status",
            "updated_at",
            postgresql_where="status IN ('pending', 'running')",
        ),
    )

    platform: Mapped[str | None] = mapped_column(String(16))
    author_ref: Mapped[str | None] = mapped_column(String(64))
    author_id_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    finding_id: Mapped[uuid.UUID | None]
    delete_on_platform: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ErasureStatus] = mapped_column(
        str_enum(ErasureStatus, "erasure_status"), default=ErasureStatus.PENDING
    )
    # What was removed, per kind: {"findings": 3, "inbox_events": 5, ...}.
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class Tombstone(TenantOwned, Base):
    """An erased author or comment: ``ref`` is the keyed hash of ``<platform>:<id>``
    (``service.erasure.tombstones.ref``), never the id. The app role may add, never remove."""

    __tablename__ = "erasure_tombstones"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "ref"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    kind: Mapped[TombstoneKind] = mapped_column(str_enum(TombstoneKind, "tombstone_kind"))
    ref: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[uuid.UUID]
