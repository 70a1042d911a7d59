"""docker/: what the compose file promises, checked without Docker, and the app's login role
made by the postgres init script, tried on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import yaml
from sqlalchemy import text

from service.db import Database
from tests.conftest import ADMIN_DSN, MakeTenant, make_settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
INIT_SCRIPT = DOCKER / "postgres-init" / "10-wallguard-app-login.sh"
WALLGUARD_SERVICES = ("migrate", "api", "worker", "sandbox")


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())  # type: ignore[no-any-return]


def test_the_image_is_built_once_and_run_by_every_wallguard_service() -> None:
    services = _compose()["services"]
    assert [name for name, s in services.items() if "build" in s] == ["migrate"]
    assert len({services[name]["image"] for name in WALLGUARD_SERVICES}) == 1


def test_the_app_logs_in_as_a_role_that_is_not_the_owner() -> None:
    services = _compose()["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith(
            "postgresql+asyncpg://${POSTGRES_APP_USER:-wallguard_api}:"
        ), name
        # The owner's password is not handed to them, even though .env holds it.
        assert env["POSTGRES_PASSWORD"] == "" and env["WALLGUARD_MIGRATION_DATABASE_URL"] == ""
    migrate = services["migrate"]["environment"]["WALLGUARD_MIGRATION_DATABASE_URL"]
    assert migrate.startswith(f"postgresql+asyncpg://{owner}:")
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]


def test_every_setting_in_dot_env_reaches_the_app() -> None:
    services = _compose()["services"]
    for name in ("migrate", "api", "worker"):
        assert services[name]["env_file"] == [{"path": ".env", "required": False}], name


def test_the_demo_sandbox_sends_webhooks_to_the_api_service_and_keeps_its_platform() -> None:
    sandbox = _compose()["services"]["sandbox"]
    assert sandbox["environment"]["WALLGUARD_SANDBOX_WEBHOOK_BASE_URL"] == "http://api:8000"
    command = sandbox["command"]
    assert command[command.index("--state-file") + 1].startswith("/data/")
    assert "sandbox-data:/data" in sandbox["volumes"]


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs psql")
async def test_the_init_scripts_login_role_runs_the_app_bound_by_row_level_security(
    database_url: str, make_tenant: MakeTenant
) -> None:
    admin = urlsplit(ADMIN_DSN)
    database = database_url.rsplit("/", 1)[1]
    login = f"wg_test_login_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "POSTGRES_USER": admin.username or "postgres",
        "POSTGRES_DB": database,
        "POSTGRES_APP_PASSWORD": "not-used-with-trust-auth",
        "POSTGRES_APP_USER": login,
        "PGHOST": admin.hostname or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
    }
    for _ in range(2):  # idempotent: a second run for an existing volume changes nothing
        await asyncio.to_thread(
            subprocess.run, ["sh", str(INIT_SCRIPT)], env=env, check=True, capture_output=True
        )
    base = database_url.split("//", 1)[1].split("@", 1)[1]
    db = Database(make_settings(f"postgresql+asyncpg://{login}@{base}"))
    try:
        tenant = await make_tenant()
        async with db.unit_of_work(tenant.tenant_id) as uow:
            row = (
                await uow.session.execute(
                    text(
                        "SELECT session_user, r.rolsuper, r.rolbypassrls, "
                        "(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                        " AND tableowner = session_user) "
                        "FROM pg_roles r WHERE r.rolname = session_user"
                    )
                )
            ).one()
            assert tuple(row) == (login, False, False, 0)
            names = (await uow.session.execute(text("SELECT name FROM tenants"))).scalars().all()
            assert len(names) == 1  # its own tenant only
    finally:
        await db.dispose()
        connection = await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}")
        try:
            await connection.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM "{login}"')
            await connection.execute(f'DROP OWNED BY "{login}"')
            await connection.execute(f'DROP ROLE "{login}"')
        finally:
            await connection.close()
