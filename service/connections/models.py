from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    ARRAY,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned, Timestamped
from service.db_types import str_enum


class Platform(enum.StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    NEEDS_REAUTH = "needs_reauth"
    REVOKED = "revoked"


class Connection(TenantOwned, Base):
    """One connected page (Facebook) or account (Instagram) of a client."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("tenant_id", "platform", "external_id"),
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"
        ),
        # Inbound webhooks name a page, not a tenant: routing looks connections up by page.
        Index("ix_connections_platform_external_id", "platform", "external_id"),
    )

    client_id: Mapped[uuid.UUID]
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "platform"))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[ConnectionStatus] = mapped_column(
        str_enum(ConnectionStatus, "connection_status"), default=ConnectionStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The page access token, AES-GCM encrypted (service.crypto); never returned, never logged.
    token_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    tasks: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    # Country hint for phone numbers on this page, and the language replies default to.
    country: Mapped[str | None] = mapped_column(String(2))
    default_language: Mapped[str | None] = mapped_column(String(2))
    # An Instagram account is moderated with the token of the Facebook Page it is linked to.
    linked_page_id: Mapped[str | None] = mapped_column(String(64))
    subscribed_at: Mapped[dt.datetime | None]
    last_event_at: Mapped[dt.datetime | None]
    last_polled_at: Mapped[dt.datetime | None]


class OAuthStateUse(Timestamped, Base):
    """An OAuth ``state`` that reached the callback, kept until the state expires, so the same
    state is refused afterwards (a leaked authorisation URL must not attach pages again). In
    Postgres, not Redis: Redis here only carries messages and may forget."""

    __tablename__ = "oauth_state_uses"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime]
