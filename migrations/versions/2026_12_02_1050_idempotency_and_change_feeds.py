"""Idempotency keys per tenant; findings and scans listed by update time (change feeds).

Revision ID: 0005_openapi_idempotency_feeds
Revises: 20261202_webhook_purge_index
Create Date: 2026-12-02 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_tenant_rls

revision = "0005_openapi_idempotency_feeds"
down_revision = "20261202_webhook_purge_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_idempotency_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_idempotency_keys_tenant_id_key")),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    enable_tenant_rls("idempotency_keys")
    # `updated_since` lists oldest change first with an (updated_at, id) cursor.
    op.create_index("ix_findings_tenant_updated", "findings", ["tenant_id", "updated_at", "id"])
    op.create_index("ix_scans_tenant_updated", "scans", ["tenant_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_scans_tenant_updated", table_name="scans")
    op.drop_index("ix_findings_tenant_updated", table_name="findings")
    op.drop_table("idempotency_keys")
