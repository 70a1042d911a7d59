from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import ForeignKeyConstraint, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum

# What an event's payload ciphertext is bound to (service/crypto.py).
PAYLOAD_PURPOSE = "inbox_event"


class InboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class InboxEvent(TenantOwned, Base):
    """One change of one webhook delivery, routed to one connection.

    The change as Meta sent it (it holds the comment text) is stored only encrypted; the
    columns beside it are platform ids, enough to process and de-duplicate the event.
    """

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        Index(
            "ix_inbox_events_pending", "status", "updated_at", postgresql_where="status = 'pending'"
        ),
        # A connection's pending events, oldest first (the drain: ``lock_ready``).
        Index(
            "ix_inbox_events_pending_by_connection",
            "tenant_id",
            "connection_id",
            "received_at",
            postgresql_where="status = 'pending'",
        ),
        Index("ix_inbox_events_tenant_id_received_at", "tenant_id", "received_at"),
        Index(
            "ix_inbox_events_tenant_id_payload_kept",
            "tenant_id",
            postgresql_where="payload_ciphertext IS NOT NULL AND status <> 'pending'",
        ),
        Index(
            "ix_inbox_events_tenant_id_sender_id",
            "tenant_id",
            "sender_id",
            postgresql_where="sender_id IS NOT NULL",
        ),
    )

    connection_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(32))
    item: Mapped[str | None] = mapped_column(String(32))
    verb: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(128))
    post_id: Mapped[str | None] = mapped_column(String(128))
    parent_id: Mapped[str | None] = mapped_column(String(128))
    sender_id: Mapped[str | None] = mapped_column(String(64))
    # sha256 over the change's identifying fields: a redelivered event is recognised.
    dedupe_key: Mapped[str] = mapped_column(String(64))
    # Cleared (NULL) as soon as the event is processed: the comment text is kept no longer than
    # the work needs it. The row itself goes after the inbox retention period.
    payload_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[InboxStatus] = mapped_column(
        str_enum(InboxStatus, "inbox_status"), default=InboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime]
    processed_at: Mapped[dt.datetime | None]
