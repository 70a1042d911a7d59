from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKeyConstraint, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned


class AuditEvent(TenantOwned, Base):
    """hash = sha256(prev_hash || canonical JSON of the event). The app role may only INSERT and
    SELECT here; changing or removing a row breaks the chain, which `wallguard audit verify`
    and GET /v1/audit-events/verify detect."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The chain's head per tenant; its row lock serialises appends within a tenant.

    ``anchor_seq``/``anchor_hash``: where the retained chain starts. 0 and the genesis hash until
    retention removes the oldest events (only the database function
    ``wallguard_purge_audit_events`` can, moving the anchor in the same statement); the first
    retained event must then be ``anchor_seq + 1`` and link to ``anchor_hash``."""

    __tablename__ = "audit_heads"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    anchor_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    anchor_hash: Mapped[bytes] = mapped_column(LargeBinary(32), default=b"\x00" * 32)
