from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum


class PolicyMode(enum.StrEnum):
    MONITOR = "monitor"
    HIDE = "hide"
    HIDE_AND_REPLY = "hide_and_reply"


class Policy(TenantOwned, Base):
    """A client's policy (connection_id NULL) or a connection's override of it.

    Override fields are NULL where the connection inherits the client's value.
    """

    __tablename__ = "policies"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        # One client policy and at most one override per connection.
        Index(
            "uq_policies_client",
            "tenant_id",
            "client_id",
            unique=True,
            postgresql_where=text("connection_id IS NULL"),
        ),
        Index(
            "uq_policies_connection",
            "tenant_id",
            "connection_id",
            unique=True,
            postgresql_where=text("connection_id IS NOT NULL"),
        ),
    )

    client_id: Mapped[uuid.UUID]
    connection_id: Mapped[uuid.UUID | None]
    mode: Mapped[PolicyMode | None] = mapped_column(str_enum(PolicyMode, "policy_mode"))
    # {"PHONE_NUMBER": 0.6, ...}: the types that act and each one's minimum score.
    thresholds: Mapped[dict[str, float] | None] = mapped_column(JSONB)
    # The company's own published numbers and addresses: never personal data.
    allowlist: Mapped[list[str] | None] = mapped_column(JSONB)
    # [{"name", "pattern", "type", "score"}], compiled with RE2.
    custom_patterns: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # {"da": "...", "de": "..."}: placeholders {private_channel_url}, {client_name}.
    reply_templates: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    default_language: Mapped[str | None]
    scan_page_replies: Mapped[bool | None]
