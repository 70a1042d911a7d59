"""Retention settings, the audit chain's anchor, erasure requests and their tombstones.

- ``retention_settings``: one row per tenant (client_id NULL) and per client that overrides it;
  NULL columns inherit (client → tenant → product default). The tenant's findings period stays
  where it was, ``tenants.retention_days`` (what ``/v1/tenant`` has always shown).
- ``audit_heads.anchor_seq/anchor_hash``: where the retained chain starts once retention removed
  its oldest events. The app role still cannot DELETE audit events: only the SECURITY DEFINER
  function ``wallguard_purge_audit_events`` can, and only a prefix of the chain older than 30 days,
  moving the anchor in the same statement.
- ``erasure_requests`` and ``erasure_tombstones`` (keyed hashes of erased authors and comments).
- ``inbox_events.payload_ciphertext`` becomes nullable: it is cleared once the event is processed.
- ``tenants.deleting_at``: a tenant being deleted (its keys are revoked, its data going).
- Indexes the purges and erasure walk by.

Revision ID: 0005_retention_erasure
Revises: 0004_system_role
Create Date: 2026-12-02 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import app_role, enable_tenant_rls

revision = "0005_retention_erasure"
down_revision = "0004_system_role"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "retention_settings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("findings_days", sa.Integer(), nullable=True),
        sa.Column("audit_events_days", sa.Integer(), nullable=True),
        sa.Column("inbox_events_days", sa.Integer(), nullable=True),
        sa.Column("webhook_deliveries_days", sa.Integer(), nullable=True),
        sa.Column("scans_days", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_retention_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_retention_settings_tenant_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_retention_settings")),
        # The database refuses what the API refuses, whoever writes.
        sa.CheckConstraint(
            "findings_days BETWEEN 1 AND 3650", name=op.f("ck_retention_settings_findings_days")
        ),
        # The tenant's own findings period is tenants.retention_days: one place for it.
        sa.CheckConstraint(
            "client_id IS NOT NULL OR findings_days IS NULL",
            name=op.f("ck_retention_settings_tenant_findings_in_tenants"),
        ),
        sa.CheckConstraint(
            "audit_events_days BETWEEN 30 AND 3650",
            name=op.f("ck_retention_settings_audit_events_days"),
        ),
        sa.CheckConstraint(
            "inbox_events_days BETWEEN 1 AND 30",
            name=op.f("ck_retention_settings_inbox_events_days"),
        ),
        sa.CheckConstraint(
            "webhook_deliveries_days BETWEEN 1 AND 365",
            name=op.f("ck_retention_settings_webhook_deliveries_days"),
        ),
        sa.CheckConstraint(
            "scans_days BETWEEN 1 AND 3650", name=op.f("ck_retention_settings_scans_days")
        ),
    )
    op.create_index(
        "uq_retention_settings_tenant",
        "retention_settings",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NULL"),
    )
    op.create_index(
        "uq_retention_settings_client",
        "retention_settings",
        ["tenant_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )
    enable_tenant_rls("retention_settings")
    op.add_column("tenants", sa.Column("deleting_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "erasure_requests",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("author_ref", sa.String(length=64), nullable=True),
        sa.Column("author_id_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("finding_id", sa.UUID(), nullable=True),
        sa.Column("delete_on_platform", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "running", "completed", "failed", name="erasure_status"),
            nullable=False,
        ),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_erasure_requests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_erasure_requests")),
    )
    op.create_index(
        "ix_erasure_requests_open",
        "erasure_requests",
        ["status", "updated_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    enable_tenant_rls("erasure_requests")
    op.create_table(
        "erasure_tombstones",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Enum("author", "comment", name="tombstone_kind"), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_erasure_tombstones_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_erasure_tombstones")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "ref", name=op.f("uq_erasure_tombstones_tenant_id_kind_ref")
        ),
    )
    # Erased stays erased: the app may add tombstones, never lift one.
    enable_tenant_rls("erasure_tombstones", privileges="SELECT, INSERT")

    op.alter_column("inbox_events", "payload_ciphertext", nullable=True)
    op.create_index(
        "ix_inbox_events_tenant_id_received_at", "inbox_events", ["tenant_id", "received_at"]
    )
    # Processed events whose payload is still there: what the purge clears (normally none).
    op.create_index(
        "ix_inbox_events_tenant_id_payload_kept",
        "inbox_events",
        ["tenant_id"],
        postgresql_where=sa.text("payload_ciphertext IS NOT NULL AND status <> 'pending'"),
    )
    op.create_index(
        "ix_inbox_events_tenant_id_sender_id",
        "inbox_events",
        ["tenant_id", "sender_id"],
        postgresql_where=sa.text("sender_id IS NOT NULL"),
    )
    op.create_index("ix_findings_tenant_id_received_at", "findings", ["tenant_id", "received_at"])
    op.create_index(
        "ix_findings_tenant_id_author_id",
        "findings",
        ["tenant_id", "author_id"],
        postgresql_where=sa.text("author_id IS NOT NULL"),
    )
    op.create_index(
        "ix_moderation_actions_tenant_id_finding_id",
        "moderation_actions",
        ["tenant_id", "finding_id"],
        postgresql_where=sa.text("finding_id IS NOT NULL"),
    )
    op.create_index(
        "ix_scans_tenant_id_finished_at",
        "scans",
        ["tenant_id", "finished_at"],
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    )

    op.add_column(
        "audit_heads",
        sa.Column("anchor_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "audit_heads",
        sa.Column(
            "anchor_hash",
            sa.LargeBinary(length=32),
            server_default=sa.text("'\\x" + "00" * 32 + "'::bytea"),
            nullable=False,
        ),
    )
    role = app_role()
    # Runs as the table owner (the app role has no DELETE on audit_events), within RLS: the
    # caller's tenant context still decides which chain it may touch. It removes only a prefix
    # of the chain (from the anchor on, stopping at the first event not older than p_before)
    # and moves the anchor to the last removed event, in one statement with the head locked.
    op.execute("""
        CREATE OR REPLACE FUNCTION wallguard_purge_audit_events(
            p_tenant uuid, p_before timestamptz, p_limit integer
        ) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        DECLARE
            v_anchor bigint;
            v_last bigint;
            v_hash bytea;
            v_removed integer;
        BEGIN
            -- Only in the tenant's own unit of work (inside this function current_user is the
            -- owner, so the system switch would not count anyway).
            IF p_tenant IS DISTINCT FROM wallguard_current_tenant() THEN
                RAISE EXCEPTION 'audit purge outside the tenant context';
            END IF;
            IF p_before > now() - interval '30 days' THEN
                RAISE EXCEPTION 'audit events younger than 30 days are never purged';
            END IF;
            SELECT anchor_seq INTO v_anchor FROM audit_heads
                WHERE tenant_id = p_tenant FOR UPDATE;
            IF NOT FOUND THEN
                RETURN 0;
            END IF;
            WITH batch AS (
                SELECT seq, occurred_at FROM audit_events
                WHERE tenant_id = p_tenant AND seq > v_anchor
                ORDER BY seq LIMIT greatest(p_limit, 1)
            ), young AS (
                SELECT min(seq) AS seq FROM batch WHERE occurred_at >= p_before
            )
            SELECT max(batch.seq) INTO v_last FROM batch, young
                WHERE young.seq IS NULL OR batch.seq < young.seq;
            IF v_last IS NULL THEN
                RETURN 0;
            END IF;
            SELECT hash INTO v_hash FROM audit_events WHERE tenant_id = p_tenant AND seq = v_last;
            DELETE FROM audit_events
                WHERE tenant_id = p_tenant AND seq > v_anchor AND seq <= v_last;
            GET DIAGNOSTICS v_removed = ROW_COUNT;
            UPDATE audit_heads SET anchor_seq = v_last, anchor_hash = v_hash
                WHERE tenant_id = p_tenant;
            RETURN v_removed;
        END
        $$
    """)
    op.execute(
        "REVOKE ALL ON FUNCTION wallguard_purge_audit_events(uuid, timestamptz, integer) "
        "FROM PUBLIC"
    )
    op.execute(
        "GRANT EXECUTE ON FUNCTION wallguard_purge_audit_events(uuid, timestamptz, integer) "
        f'TO "{role}"'
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS wallguard_purge_audit_events(uuid, timestamptz, integer)")
    op.drop_column("audit_heads", "anchor_hash")
    op.drop_column("audit_heads", "anchor_seq")
    op.drop_index("ix_scans_tenant_id_finished_at", table_name="scans")
    op.drop_index("ix_moderation_actions_tenant_id_finding_id", table_name="moderation_actions")
    op.drop_index("ix_findings_tenant_id_author_id", table_name="findings")
    op.drop_index("ix_findings_tenant_id_received_at", table_name="findings")
    op.drop_index("ix_inbox_events_tenant_id_sender_id", table_name="inbox_events")
    op.drop_index("ix_inbox_events_tenant_id_payload_kept", table_name="inbox_events")
    op.drop_index("ix_inbox_events_tenant_id_received_at", table_name="inbox_events")
    op.execute("DELETE FROM inbox_events WHERE payload_ciphertext IS NULL")
    op.alter_column("inbox_events", "payload_ciphertext", nullable=False)
    op.drop_table("erasure_tombstones")
    op.drop_index("ix_erasure_requests_open", table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.drop_column("tenants", "deleting_at")
    op.drop_table("retention_settings")
    op.execute("DROP TYPE IF EXISTS erasure_status")
    op.execute("DROP TYPE IF EXISTS tombstone_kind")
