from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum


class ScanStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # rate limited or the connection needs re-authorisation
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Scan(TenantOwned, Base):
    __tablename__ = "scans"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_scans_tenant_id_finished_at",
            "tenant_id",
            "finished_at",
            postgresql_where="finished_at IS NOT NULL",
        ),
        Index(
            "ix_scans_active",
            "status",
            postgresql_where="status IN ('pending','running','waiting')",
        ),
    )

    connection_id: Mapped[uuid.UUID]
    status: Mapped[ScanStatus] = mapped_column(
        str_enum(ScanStatus, "scan_status"), default=ScanStatus.PENDING
    )
    since: Mapped[dt.datetime | None]
    until: Mapped[dt.datetime | None]
    # Where to resume: {"feed_cursor", "post_id", "comment_cursor"}; platform cursors only.
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    posts_scanned: Mapped[int] = mapped_column(default=0)
    comments_scanned: Mapped[int] = mapped_column(default=0)
    findings: Mapped[int] = mapped_column(default=0)
    hidden: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
