"""Service hours, tracked comments (response times) and storms.

Revision ID: 20261202_service_hours
Revises: 20261202_webhooks
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import drop_tenant_rls, enable_tenant_rls

revision = "20261202_service_hours"
down_revision = "20261202_webhooks"
branch_labels = None
depends_on = None

_TABLES = ("service_hours", "tracked_comments", "storms", "comment_counts")


def _timestamps() -> list[sa.Column[dt.datetime]]:
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


def _connection_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "connection_id"],
        ["connections.tenant_id", "connections.id"],
        name=f"fk_{table}_tenant_id_connection_id_connections",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "service_hours",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("weekly", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("holidays", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("exceptions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("count_hidden_comments", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name="fk_service_hours_tenant_id_client_id_clients",
            ondelete="CASCADE",
        ),
        _connection_fk("service_hours"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_service_hours"),
    )
    op.create_index(
        "uq_service_hours_client",
        "service_hours",
        ["tenant_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("connection_id IS NULL"),
    )
    op.create_index(
        "uq_service_hours_connection",
        "service_hours",
        ["tenant_id", "connection_id"],
        unique=True,
        postgresql_where=sa.text("connection_id IS NOT NULL"),
    )

    op.create_table(
        "tracked_comments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("comment_id", sa.String(length=128), nullable=False),
        sa.Column("post_id", sa.String(length=128), nullable=True),
        sa.Column("thread_id", sa.String(length=128), nullable=False),
        sa.Column("by_page", sa.Boolean(), nullable=False),
        sa.Column("commented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("promise_minutes", sa.Integer(), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "counts_when_hidden", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_comment_id", sa.String(length=128), nullable=True),
        sa.Column("response_seconds", sa.Float(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        _connection_fk("tracked_comments"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_tracked_comments"),
        sa.UniqueConstraint(
            "tenant_id",
            "connection_id",
            "comment_id",
            name="uq_tracked_comments_tenant_id_connection_id_comment_id",
        ),
    )
    op.create_index(
        "ix_tracked_comments_thread",
        "tracked_comments",
        ["tenant_id", "connection_id", "thread_id"],
    )
    op.create_index(
        "ix_tracked_comments_customer_time",
        "tracked_comments",
        ["tenant_id", "connection_id", "commented_at"],
        postgresql_where=sa.text("NOT by_page"),
    )
    op.create_index(
        "ix_tracked_comments_recent",
        "tracked_comments",
        ["commented_at"],
        postgresql_where=sa.text("NOT by_page"),
    )
    op.create_index(
        "ix_tracked_comments_unprocessed",
        "tracked_comments",
        ["tenant_id", "connection_id"],
        postgresql_where=sa.text("NOT processed"),
    )
    op.create_index(
        "ix_tracked_comments_deadline",
        "tracked_comments",
        ["deadline_at"],
        postgresql_where=sa.text("overdue_at IS NULL AND NOT by_page"),
    )
    op.create_index(
        "ix_tracked_comments_waiting",
        "tracked_comments",
        ["tenant_id", "commented_at"],
        postgresql_where=sa.text("first_reply_at IS NULL AND NOT by_page"),
    )

    op.create_table(
        "storms",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Enum("active", "ended", name="storm_status"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_elevated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("baseline_per_minute", sa.Float(), nullable=False),
        sa.Column("rate_per_minute", sa.Float(), nullable=False),
        sa.Column("peak_per_minute", sa.Float(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("posts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        *_timestamps(),
        _connection_fk("storms"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_storms"),
    )
    op.create_index(
        "uq_storms_active",
        "storms",
        ["tenant_id", "connection_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "ix_storms_tenant_connection", "storms", ["tenant_id", "connection_id", "started_at"]
    )

    op.create_table(
        "comment_counts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        *_timestamps(),
        _connection_fk("comment_counts"),
        sa.PrimaryKeyConstraint("tenant_id", "connection_id", "minute", name="pk_comment_counts"),
    )
    for table in _TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in _TABLES:
        drop_tenant_rls(table)
    op.drop_table("comment_counts")
    op.drop_table("storms")
    op.drop_table("tracked_comments")
    op.drop_table("service_hours")
    op.execute("DROP TYPE IF EXISTS storm_status")
