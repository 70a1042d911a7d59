from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned


class ServiceHoursRow(TenantOwned, Base):
    """A client's service hours (connection_id NULL) or a connection's override, which replaces
    the client's as a whole (hours are one promise, not fields to mix)."""

    __tablename__ = "service_hours"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        Index(
            "uq_service_hours_client",
            "tenant_id",
            "client_id",
            unique=True,
            postgresql_where=text("connection_id IS NULL"),
        ),
        Index(
            "uq_service_hours_connection",
            "tenant_id",
            "connection_id",
            unique=True,
            postgresql_where=text("connection_id IS NOT NULL"),
        ),
    )

    client_id: Mapped[uuid.UUID]
    connection_id: Mapped[uuid.UUID | None]
    time_zone: Mapped[str] = mapped_column(String(64))
    # {"monday": [["07:00", "22:00"]], ...}: every weekday present, [] when closed.
    weekly: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # ["2026-12-25", ...]: closed all day.
    holidays: Mapped[list[str]] = mapped_column(JSONB)
    # [{"date": "2026-12-24", "hours": [["09:00", "12:00"]]}]: that date's own hours.
    exceptions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # The promised first response, in service minutes; NULL: measured, nothing promised.
    first_response_minutes: Mapped[int | None]
    # Whether a comment hidden for personal data still awaits a public reply.
    count_hidden_comments: Mapped[bool] = mapped_column(default=False)
