from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index
from sqlalchemy.orm import Mapped

from service.db import Base, TenantOwned


class RetentionSettings(TenantOwned, Base):
    """The tenant's row (``client_id`` NULL) and one per client that overrides it. A NULL
    column inherits: client → tenant → the product default (``service.retention.schemas``).
    The tenant's own findings period is ``tenants.retention_days``."""

    __tablename__ = "retention_settings"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"
        ),
        Index(
            "uq_retention_settings_tenant",
            "tenant_id",
            unique=True,
            postgresql_where="client_id IS NULL",
        ),
        Index(
            "uq_retention_settings_client",
            "tenant_id",
            "client_id",
            unique=True,
            postgresql_where="client_id IS NOT NULL",
        ),
        CheckConstraint("findings_days BETWEEN 1 AND 3650", name="findings_days"),
        # The tenant's own findings period is tenants.retention_days: one place for it.
        CheckConstraint(
            "client_id IS NOT NULL OR findings_days IS NULL", name="tenant_findings_in_tenants"
        ),
        CheckConstraint("audit_events_days BETWEEN 30 AND 3650", name="audit_events_days"),
        CheckConstraint("inbox_events_days BETWEEN 1 AND 30", name="inbox_events_days"),
        CheckConstraint(
            "webhook_deliveries_days BETWEEN 1 AND 365", name="webhook_deliveries_days"
        ),
        CheckConstraint("scans_days BETWEEN 1 AND 3650", name="scans_days"),
    )

    client_id: Mapped[uuid.UUID | None]
    findings_days: Mapped[int | None]
    audit_events_days: Mapped[int | None]
    inbox_events_days: Mapped[int | None]
    webhook_deliveries_days: Mapped[int | None]
    scans_days: Mapped[int | None]
