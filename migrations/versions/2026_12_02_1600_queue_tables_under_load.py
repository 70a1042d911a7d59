"""Tables that work as queues stay cheap to read under sustained load.

- ``inbox_events``: the drain of a connection's pending events (``lock_ready``: its tenant,
  connection and oldest first) gets an index of its own over pending rows only. It used to
  combine the tenant's index over every event with the index of all pending events: both grow
  with every comment ever received (the pending index holds an entry for every event that was
  pending until vacuum removes it), and a bitmap scan never marks those entries dead, so at
  250 comments/s each drain read cost tens of milliseconds after a few minutes.
- The four tables whose rows change state once under load (an inbox event, a hide action, a
  finding, a response-time row) are vacuumed and analysed after 2 % of their rows changed
  instead of Postgres's default 20 %: a queue's dead rows are what its reads wade through, and
  its planner statistics go stale within minutes.

Revision ID: 20261202_queue_tables_under_load
Revises: hardening_oauth_state_uses
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "20261202_queue_tables_under_load"
down_revision = "hardening_oauth_state_uses"
branch_labels = None
depends_on = None

BUSY_TABLES = ("inbox_events", "moderation_actions", "findings", "tracked_comments")
SETTINGS = ("autovacuum_vacuum_scale_factor", "autovacuum_analyze_scale_factor")


def upgrade() -> None:
    # Concurrently: inbox_events is written by every webhook, and a plain CREATE INDEX would
    # hold its writes for as long as the build takes on a large table.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_inbox_events_pending_by_connection",
            "inbox_events",
            ["tenant_id", "connection_id", "received_at"],
            postgresql_where="status = 'pending'",
            postgresql_concurrently=True,
            if_not_exists=True,
        )
    for table in BUSY_TABLES:
        op.execute(f"ALTER TABLE {table} SET ({', '.join(f'{s} = 0.02' for s in SETTINGS)})")


def downgrade() -> None:
    for table in BUSY_TABLES:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_inbox_events_pending_by_connection",
            table_name="inbox_events",
            postgresql_concurrently=True,
            if_exists=True,
        )
