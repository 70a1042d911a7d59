"""Connections, inbox, policies, scans, findings, moderation actions and the audit trail.

Revision ID: 0002_moderation
Revises: 0001_foundation
Create Date: 2026-11-23 09:09:59.062919
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import enable_tenant_rls

_TENANT_TABLES = (
    "connections",
    "inbox_events",
    "policies",
    "scans",
    "findings",
    "moderation_actions",
)
_ENUMS = (
    "platform",
    "connection_status",
    "finding_status",
    "finding_source",
    "inbox_status",
    "action_kind",
    "action_status",
    "policy_mode",
    "scan_status",
)

revision = "0002_moderation"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            name=op.f("fk_audit_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("tenant_id", "seq", name=op.f("uq_audit_events_tenant_id_seq")),
    )
    op.create_table(
        "audit_heads",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_audit_heads_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "connections",
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.Enum("facebook", "instagram", name="platform"), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "paused", "needs_reauth", "revoked", name="connection_status"),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("tasks", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("default_language", sa.String(length=2), nullable=True),
        sa.Column("linked_page_id", sa.String(length=64), nullable=True),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_connections_tenant_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_connections")),
        sa.UniqueConstraint(
            "tenant_id",
            "platform",
            "external_id",
            name=op.f("uq_connections_tenant_id_platform_external_id"),
        ),
    )
    op.create_index(
        "ix_connections_platform_external_id",
        "connections",
        ["platform", "external_id"],
        unique=False,
    )
    op.create_table(
        "findings",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("comment_id", sa.String(length=128), nullable=False),
        sa.Column("post_id", sa.String(length=128), nullable=True),
        sa.Column("parent_id", sa.String(length=128), nullable=True),
        sa.Column("permalink_url", sa.Text(), nullable=True),
        sa.Column("author_id", sa.String(length=64), nullable=True),
        sa.Column("by_page", sa.Boolean(), nullable=False),
        sa.Column("types", sa.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("entities", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("masked_excerpt_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprints", sa.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("max_score", sa.Double(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "hidden",
                "monitored",
                "reported",
                "pending_hide",
                "hide_failed",
                "unhidden",
                "confirmed",
                name="finding_status",
            ),
            nullable=False,
        ),
        sa.Column(
            "source", sa.Enum("realtime", "poll", "scan", name="finding_source"), nullable=False
        ),
        sa.Column("scan_id", sa.UUID(), nullable=True),
        sa.Column("comment_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=80), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_findings_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_findings")),
        sa.UniqueConstraint(
            "tenant_id",
            "connection_id",
            "comment_id",
            name=op.f("uq_findings_tenant_id_connection_id_comment_id"),
        ),
    )
    op.create_index(
        "ix_findings_fingerprints",
        "findings",
        ["fingerprints"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_findings_tenant_created", "findings", ["tenant_id", "id"], unique=False)
    op.create_table(
        "inbox_events",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=True),
        sa.Column("verb", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=128), nullable=True),
        sa.Column("post_id", sa.String(length=128), nullable=True),
        sa.Column("parent_id", sa.String(length=128), nullable=True),
        sa.Column("sender_id", sa.String(length=64), nullable=True),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("payload_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "done", "skipped", "failed", name="inbox_status"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_inbox_events_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_inbox_events")),
        sa.UniqueConstraint(
            "tenant_id", "dedupe_key", name=op.f("uq_inbox_events_tenant_id_dedupe_key")
        ),
    )
    op.create_index(
        "ix_inbox_events_pending",
        "inbox_events",
        ["status", "updated_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_table(
        "moderation_actions",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("finding_id", sa.UUID(), nullable=True),
        sa.Column("comment_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.Enum("hide", "unhide", "reply", name="action_kind"), nullable=False),
        sa.Column(
            "status", sa.Enum("pending", "done", "failed", name="action_status"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_moderation_actions_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_moderation_actions")),
        sa.UniqueConstraint(
            "tenant_id",
            "connection_id",
            "comment_id",
            "kind",
            name=op.f("uq_moderation_actions_tenant_id_connection_id_comment_id_kind"),
        ),
    )
    op.create_index(
        "ix_moderation_actions_pending",
        "moderation_actions",
        ["status", "updated_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_table(
        "policies",
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=True),
        sa.Column(
            "mode", sa.Enum("monitor", "hide", "hide_and_reply", name="policy_mode"), nullable=True
        ),
        sa.Column("thresholds", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("allowlist", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("custom_patterns", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reply_templates", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("default_language", sa.String(), nullable=True),
        sa.Column("scan_page_replies", sa.Boolean(), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_policies_tenant_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_policies_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_policies")),
    )
    op.create_index(
        "uq_policies_client",
        "policies",
        ["tenant_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("connection_id IS NULL"),
    )
    op.create_index(
        "uq_policies_connection",
        "policies",
        ["tenant_id", "connection_id"],
        unique=True,
        postgresql_where=sa.text("connection_id IS NOT NULL"),
    )
    op.create_table(
        "scans",
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "waiting",
                "completed",
                "cancelled",
                "failed",
                name="scan_status",
            ),
            nullable=False,
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkpoint", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("posts_scanned", sa.Integer(), nullable=False),
        sa.Column("comments_scanned", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
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
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_scans_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_scans")),
    )
    op.create_index(
        "ix_scans_active",
        "scans",
        ["status"],
        unique=False,
        postgresql_where="status IN ('pending','running','waiting')",
    )
    for table in _TENANT_TABLES:
        enable_tenant_rls(table)
    # Append-only: the app role can add audit events and read them, never change or remove one.
    enable_tenant_rls("audit_events", privileges="SELECT, INSERT")
    enable_tenant_rls("audit_heads", privileges="SELECT, INSERT, UPDATE")


def downgrade() -> None:
    op.drop_index(
        "ix_scans_active",
        table_name="scans",
        postgresql_where="status IN ('pending','running','waiting')",
    )
    op.drop_table("scans")
    op.drop_index(
        "uq_policies_connection",
        table_name="policies",
        postgresql_where=sa.text("connection_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_policies_client",
        table_name="policies",
        postgresql_where=sa.text("connection_id IS NULL"),
    )
    op.drop_table("policies")
    op.drop_index(
        "ix_moderation_actions_pending",
        table_name="moderation_actions",
        postgresql_where="status = 'pending'",
    )
    op.drop_table("moderation_actions")
    op.drop_index(
        "ix_inbox_events_pending", table_name="inbox_events", postgresql_where="status = 'pending'"
    )
    op.drop_table("inbox_events")
    op.drop_index("ix_findings_tenant_created", table_name="findings")
    op.drop_index("ix_findings_fingerprints", table_name="findings", postgresql_using="gin")
    op.drop_table("findings")
    op.drop_index("ix_connections_platform_external_id", table_name="connections")
    op.drop_table("connections")
    op.drop_table("audit_heads")
    op.drop_table("audit_events")
    for name in _ENUMS:
        op.execute(f"DROP TYPE IF EXISTS {name}")
