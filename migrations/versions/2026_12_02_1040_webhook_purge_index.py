"""Webhook deliveries by event: what the purge and every event deletion look up.

Removing an event (the retention purge, a tenant's deletion) makes PostgreSQL find its
deliveries for the ``ON DELETE CASCADE`` foreign key, and the purge asks whether an event still
has a delivery; without this index each of those is a scan of the tenant's deliveries.

Revision ID: 20261202_webhook_purge_index
Revises: 20261202_webhooks
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

from alembic import op

revision = "20261202_webhook_purge_index"
down_revision = "20261202_service_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_tenant_id_event_id",
        "webhook_deliveries",
        ["tenant_id", "event_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_tenant_id_event_id", table_name="webhook_deliveries")
