"""OAuth states are single-use: the nonces of used states, kept until the state expires.

Revision ID: hardening_oauth_state_uses
Revises: 0005_openapi_idempotency_feeds
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.rls import drop_tenant_rls, enable_tenant_rls

revision = "hardening_oauth_state_uses"
down_revision = "0005_openapi_idempotency_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_state_uses",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_oauth_state_uses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "nonce", name=op.f("pk_oauth_state_uses")),
    )
    # A use is claimed and its tenant's expired ones removed; nothing changes one.
    enable_tenant_rls("oauth_state_uses", privileges="SELECT, INSERT, DELETE")


def downgrade() -> None:
    drop_tenant_rls("oauth_state_uses")
    op.drop_table("oauth_state_uses")
