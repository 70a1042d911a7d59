from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned, Timestamped
from service.db_types import str_enum


class StormStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class Storm(TenantOwned, Base):
    """A storm on one connection (service/storms/rule.py says when one starts and ends)."""

    __tablename__ = "storms"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        # At most one storm in progress per connection.
        Index(
            "uq_storms_active",
            "tenant_id",
            "connection_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_storms_tenant_connection", "tenant_id", "connection_id", "started_at"),
    )

    connection_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    status: Mapped[StormStatus] = mapped_column(str_enum(StormStatus, "storm_status"))
    # The first comment of the window that set it off.
    started_at: Mapped[dt.datetime]
    detected_at: Mapped[dt.datetime]
    # The last tick the rate was still elevated; the end, once it has ended.
    last_elevated_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    baseline_per_minute: Mapped[float]
    rate_per_minute: Mapped[float]
    peak_per_minute: Mapped[float]
    comments: Mapped[int]
    # [{"post_id": "...", "comments": 1234}]: the posts drawing the comments, most first.
    posts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class CommentCount(Timestamped, Base):
    """Customer comments per connection and minute: what the baselines are read from (counts
    only; they outlive the comments' own rows)."""

    __tablename__ = "comment_counts"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "connection_id", "minute"),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID]
    connection_id: Mapped[uuid.UUID]
    minute: Mapped[dt.datetime]
    comments: Mapped[int]
