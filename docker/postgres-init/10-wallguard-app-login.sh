#!/bin/sh
# The login role the API and the worker connect as: it owns nothing, cannot bypass row-level
# security, and may only become the app role (WALLGUARD_DB_APP_ROLE) that the migrations grant
# table privileges to. The owner (POSTGRES_USER) is used by `wallguard migrate` alone.
#
# The postgres image runs this once, when its volume is first initialised. For a volume made
# before this file existed, run it by hand (it is idempotent, and sets the password again):
#   docker compose -f docker/compose.yaml exec postgres sh /docker-entrypoint-initdb.d/10-wallguard-app-login.sh
set -eu
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_role="${WALLGUARD_DB_APP_ROLE:-wallguard_app}" \
    -v login="${POSTGRES_APP_USER:-wallguard_api}" \
    -v password="$POSTGRES_APP_PASSWORD" <<'SQL'
-- The migrations create the app role too (IF NOT EXISTS); created here first so it can be granted.
SELECT format('CREATE ROLE %I NOLOGIN NOBYPASSRLS', :'app_role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_role') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', :'login')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'login') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %L', :'login', :'password') \gexec
SELECT format('GRANT %I TO %I', :'app_role', :'login') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'login') \gexec
SQL
