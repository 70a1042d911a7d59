"""What an operator can fix is said in one line, with a non-zero exit and no traceback."""

from __future__ import annotations

import os

from tests.conftest import ADMIN_DSN
from tests.helpers import free_port, wallguard

BASE_ENV = {"WALLGUARD_ENV": "test", "WALLGUARD_LOG_LEVEL": "WARNING"}


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_scans_start_without_an_api_key() -> None:
    env = {**BASE_ENV, "WALLGUARD_API_KEY": ""}
    done = wallguard(
        "scans", "start", "--connection", "00000000-0000-0000-0000-000000000000", env=env
    )
    assert done.returncode == 2
    assert "WALLGUARD_API_KEY" in _one_line(done.stderr)


def test_scans_start_when_the_api_is_not_running() -> None:
    env = {
        **BASE_ENV,
        "WALLGUARD_API_KEY": "wg_not_checked",
        "WALLGUARD_API_URL": f"http://127.0.0.1:{free_port()}",
    }
    done = wallguard(
        "scans", "start", "--connection", "00000000-0000-0000-0000-000000000000", env=env
    )
    assert done.returncode == 1
    assert _one_line(done.stderr).startswith("wallguard: cannot reach the API at 127.0.0.1:")


def test_a_database_that_does_not_exist() -> None:
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    missing = f"wallguard_missing_{os.getpid()}"
    env = {**BASE_ENV, "DATABASE_URL": f"{base}/{missing}"}
    for command in (("tenants", "create", "Acme"), ("migrate",), ("audit", "verify")):
        done = wallguard(*command, env=env)
        assert done.returncode == 1, (command, done.stderr)
        line = _one_line(done.stderr)
        assert line.startswith("wallguard: cannot use the database at "), line
        assert f'database "{missing}" does not exist' in line


def test_a_database_that_refuses_connections() -> None:
    env = {**BASE_ENV, "DATABASE_URL": f"postgresql+asyncpg://u:secret@127.0.0.1:{free_port()}/db"}
    done = wallguard("tenants", "create", "Acme", env=env)
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert (
        line.startswith("wallguard: cannot use the database at 127.0.0.1:") and "secret" not in line
    )


def test_detect_with_an_unknown_region() -> None:
    done = wallguard("detect", "--region", "XX", env=BASE_ENV)
    assert done.returncode == 2
    assert "such as DK, DE" in _one_line(done.stderr)
