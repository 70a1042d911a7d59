"""Findings by scan: a scan's hidden count is recounted when a deferred hide lands after it ended.

Revision ID: 0003_findings_by_scan
Revises: 0002_moderation
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_findings_by_scan"
down_revision = "0002_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_findings_tenant_id_scan_id",
        "findings",
        ["tenant_id", "scan_id"],
        unique=False,
        postgresql_where=sa.text("scan_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_findings_tenant_id_scan_id", table_name="findings")
