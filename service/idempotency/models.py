from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned

RESPONSE_PURPOSE = "idempotency-response"


class IdempotencyRecord(TenantOwned, Base):
    """One key a tenant used: what the request was (a hash) and, once answered, the answer.

    ``status`` is null while the first request is still running. The stored body is encrypted:
    a created API key's secret is in it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path and body: the same key with another request is a conflict.
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[int | None] = mapped_column(SmallInteger)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime]
