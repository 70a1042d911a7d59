from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Enum, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned, Timestamped
from service.ids import new_id


class TenantKind(enum.StrEnum):
    AGENCY = "agency"
    COMPANY = "company"


class Tenant(Timestamped, Base):
    """The paying account. Its own row is visible only inside its own tenant context (RLS)."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(
        Enum(TenantKind, name="tenant_kind", values_callable=lambda e: [m.value for m in e])
    )
    # How long findings are kept (the tenant's period; clients may override it, and the other
    # kinds' periods are in retention_settings: service.retention).
    retention_days: Mapped[int] = mapped_column(default=90)
    # Set when the tenant asked to be deleted: its keys are revoked and its data is being removed
    # (service.erasure.tenant); nothing new is accepted for it.
    deleting_at: Mapped[dt.datetime | None]


class Client(TenantOwned, Base):
    """A company whose pages the tenant guards; a company using Wallguard directly is its own
    single client. Page connections, policies and webhook endpoints hang on clients."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "external_ref"),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    )

    name: Mapped[str] = mapped_column(String(200))
    # The agency's own id for this client (their CRM), so they can look clients up by it.
    external_ref: Mapped[str | None] = mapped_column(String(200))
    # ISO 3166-1 alpha-2; a hint for phone-number parsing on this client's pages.
    country: Mapped[str | None] = mapped_column(String(2))
    default_language: Mapped[str | None] = mapped_column(String(2))
    # Where replies send commenters for a private conversation (chat, form, DM link).
    private_channel_url: Mapped[str | None] = mapped_column(String(2000))
