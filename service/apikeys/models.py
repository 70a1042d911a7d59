from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ARRAY, ForeignKeyConstraint, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned


class ApiKey(TenantOwned, Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "prefix"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    # Short random id shown to users to tell keys apart and used to find the row.
    prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the secret part: the secret has 256 bits of entropy, so a slow hash buys nothing.
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
