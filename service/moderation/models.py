from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum


class ActionKind(enum.StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"
    REPLY = "reply"


class ActionStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class ModerationAction(TenantOwned, Base):
    """The unique row per (comment, kind) is what makes hiding and replying happen once,
    however often a job or an event runs."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "comment_id", "kind"),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_moderation_actions_tenant_id_finding_id",
            "tenant_id",
            "finding_id",
            postgresql_where="finding_id IS NOT NULL",
        ),
        Index(
            "ix_moderation_actions_pending",
            "status",
            "updated_at",
            postgresql_where="status = 'pending'",
        ),
    )

    connection_id: Mapped[uuid.UUID]
    finding_id: Mapped[uuid.UUID | None]
    comment_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[ActionKind] = mapped_column(str_enum(ActionKind, "action_kind"))
    status: Mapped[ActionStatus] = mapped_column(
        str_enum(ActionStatus, "action_status"), default=ActionStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # The reply's platform id once posted: a retried reply job sees it and stops.
    result_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    done_at: Mapped[dt.datetime | None]
