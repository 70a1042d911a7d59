"""System role: ``app.system`` lets rows through only for the system role.

Before, any session could ``set_config('app.system', 'on', true)`` and see every tenant's rows.
Now system work (service/db.py ``system_unit_of_work``) runs its transactions as a dedicated role
(``WALLGUARD_DB_SYSTEM_ROLE``, default ``wallguard_system``: NOLOGIN, no BYPASSRLS, the app
role's privileges through membership) after ``SET LOCAL ROLE``, and ``wallguard_is_system()``
requires both that role and the setting. The app role is not a member of the system role; the
login role that runs system work must be (the migrating user is made one here, as for the app
role).

Revision ID: 0004_system_role
Revises: 0003_findings_by_scan
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from alembic import op

from migrations.rls import app_role, system_role

revision = "0004_system_role"
down_revision = "0003_findings_by_scan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app, system = app_role(), system_role()  # validated SQL identifiers (Settings)
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{system}') THEN
                -- Roles are cluster-wide: another database's migration may create it meanwhile.
                BEGIN
                    CREATE ROLE "{system}" NOLOGIN NOBYPASSRLS;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END;
            END IF;
            -- The migrating user runs system work too (the CLI); superusers can anyway.
            BEGIN
                EXECUTE format('GRANT %I TO %I', '{system}', current_user);
            EXCEPTION WHEN OTHERS THEN NULL;
            END;
        END
        $$;
    """)  # noqa: S608
    # The app role's table privileges, present and future, by membership.
    op.execute(f'GRANT "{app}" TO "{system}"')
    op.execute(f"""
        CREATE OR REPLACE FUNCTION wallguard_is_system() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT current_user = '{system}'
                  AND coalesce(current_setting('app.system', true), '') = 'on' $$
    """)


def downgrade() -> None:
    op.execute("""
        CREATE OR REPLACE FUNCTION wallguard_is_system() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$
    """)
    # The role is cluster-wide and may serve other databases: it stays.
