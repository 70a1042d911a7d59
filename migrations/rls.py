"""Row-level security building blocks shared by migrations.

Policies compare a row's tenant_id with the transaction-local ``app.tenant_id`` (set by
service.db at the start of every transaction), or let explicit system work through when
``app.system`` is on *and* the transaction runs as the system role (``wallguard_is_system()``,
since migration 0004: a tenant session cannot switch itself to system by setting app.system).
The app and system roles have no BYPASSRLS and own nothing, and FORCE makes the policies bind the
owner too.
"""

from __future__ import annotations

from alembic import op

from service.settings import Settings


def app_role() -> str:
    return Settings.from_env().db_app_role


def system_role() -> str:
    return Settings.from_env().db_system_role


def create_app_role_and_functions() -> None:
    role = app_role()  # validated as an SQL identifier by Settings
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS;
            END IF;
            -- The migrating user must be able to SET ROLE to it (superusers can anyway).
            BEGIN
                EXECUTE format('GRANT %I TO %I', '{role}', current_user);
            EXCEPTION WHEN OTHERS THEN NULL;
            END;
        END
        $$;
    """)  # noqa: S608
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    op.execute("""
        CREATE OR REPLACE FUNCTION wallguard_current_tenant() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$
    """)
    op.execute("""
        CREATE OR REPLACE FUNCTION wallguard_is_system() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$
    """)


def enable_tenant_rls(
    table: str, column: str = "tenant_id", privileges: str = "SELECT, INSERT, UPDATE, DELETE"
) -> None:
    role = app_role()
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY tenant_isolation ON {table}
        USING ({column} = wallguard_current_tenant() OR wallguard_is_system())
        WITH CHECK ({column} = wallguard_current_tenant() OR wallguard_is_system())
    """)
    op.execute(f'GRANT {privileges} ON {table} TO "{role}"')


def drop_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
