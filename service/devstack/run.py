"""`wallguard dev`: the whole stack on one machine.

1. PostgreSQL and Redis: DATABASE_URL / REDIS_URL when set and reachable, embedded servers under
   the state dir otherwise.
2. Migrations, then the API, the worker and the platform sandbox as child processes.
3. A demo tenant (reused across runs), the ``AFTER_START`` hooks, and a banner with the URLs and
   the demo admin API key.
4. Ctrl-C (or SIGTERM, or a child dying) stops the children, then Redis, then PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shlex
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from service.devstack import embedded
from service.devstack.supervise import Supervisor
from service.logging import configure_logging
from service.settings import Settings

DEMO_TENANT_NAME = "Demo Telecom"
DEMO_FILE = "demo.json"
SANDBOX_STATE_FILE = "sandbox.json"
SANDBOX_APP_ID = "sandbox-app"
SANDBOX_APP_SECRET = "sandbox-secret"
DEV_WEBHOOK_VERIFY_TOKEN = "wallguard-dev-verify-token"
# Runs the stack without the platform sandbox (e.g. against a real Meta app set in META_*).
SKIP_SANDBOX_ENV = "WALLGUARD_DEV_SKIP_SANDBOX"
SANDBOX_MODULE = "service.sandbox.app"
REACHABLE_TIMEOUT = 2.0
READY_TIMEOUT = 60.0


class DevStackError(Exception):
    """A problem `wallguard dev` explains in one line and exits on."""


@dataclass(frozen=True, slots=True)
class DemoTenant:
    tenant_id: uuid.UUID
    api_key: str


@dataclass(frozen=True, slots=True)
class DevContext:
    """What an ``AFTER_START`` hook gets once the stack is up and the demo tenant exists."""

    console: Console
    state_dir: Path
    settings: Settings
    api_url: str
    sandbox_url: str | None
    demo: DemoTenant


AfterStart = Callable[[DevContext], Awaitable[None]]
# Run in order, in one event loop, after the demo tenant exists and before the banner.
AFTER_START: list[AfterStart] = []


def _register_hooks() -> None:
    from service.devstack.demo_page import connect_demo_page_hook

    if connect_demo_page_hook not in AFTER_START:
        AFTER_START.append(connect_demo_page_hook)


_register_hooks()


def run_dev(api_port: int, sandbox_port: int, state_dir: Path) -> int:
    # No markup: paths, URLs and error messages are printed as they are.
    console = Console(soft_wrap=True, markup=False)
    # This process only supervises: keep library logs (Graph client, alembic) to warnings.
    configure_logging("WARNING", json=False)
    state_dir = state_dir.expanduser().resolve()
    with_sandbox = os.environ.get(SKIP_SANDBOX_ENV, "").strip().lower() not in {"1", "true", "yes"}
    stack = ExitStack()
    signals = _StopSignals()
    signals.install()
    try:
        return _run(
            console, stack, signals, api_port, sandbox_port if with_sandbox else None, state_dir
        )
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    except (DevStackError, embedded.EmbeddedServerError) as exc:
        console.print(f"wallguard dev: {exc}", style="red", highlight=False)
        return 1
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave a server running.
        signals.ignore()
        try:
            stack.close()
        finally:
            signals.restore()
        console.print("Stopped everything `wallguard dev` started.")


def _run(
    console: Console,
    stack: ExitStack,
    signals: _StopSignals,
    api_port: int,
    sandbox_port: int | None,
    state_dir: Path,
) -> int:
    if sandbox_port is not None and importlib.util.find_spec(SANDBOX_MODULE) is None:
        raise DevStackError(
            f"the platform sandbox ({SANDBOX_MODULE}) is not installed; "
            f"set {SKIP_SANDBOX_ENV}=1 to run without it"
        )
    ports = [api_port] if sandbox_port is None else [api_port, sandbox_port]
    if busy := [p for p in ports if not _port_free(p)]:
        raise DevStackError(
            f"port {', '.join(map(str, busy))} is in use; "
            "choose others with --port / --sandbox-port"
        )
    state_dir.mkdir(parents=True, exist_ok=True)

    database_url, data_note = _database(console, stack, signals, state_dir)
    redis_url = _redis(console, stack, signals, state_dir)
    console.print("Applying migrations…")
    from service.migrate import upgrade

    upgrade(database_url)

    api_url = f"http://127.0.0.1:{api_port}"
    sandbox_url = None if sandbox_port is None else f"http://127.0.0.1:{sandbox_port}"
    env = child_env(database_url, redis_url, api_url, sandbox_url)
    supervisor = Supervisor(console)
    stack.callback(_stop_children, console, supervisor)
    cli = [sys.executable, "-m", "service.cli"]
    with signals.held():
        supervisor.start(
            "api", [*cli, "serve", "--host", "127.0.0.1", "--port", str(api_port)], env
        )
        supervisor.start("worker", [*cli, "worker"], env)
        if sandbox_port is not None:
            supervisor.start(
                "sandbox",
                [
                    *cli,
                    "sandbox",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(sandbox_port),
                    "--seed",
                    "1",
                    # The platform is kept next to the database, so both remember the same.
                    "--state-file",
                    str(state_dir / SANDBOX_STATE_FILE),
                ],
                env,
            )
    _wait_ready(supervisor, api_url, sandbox_url)

    settings = Settings.from_env({**env, "WALLGUARD_LOG_LEVEL": "WARNING"})
    demo = asyncio.run(_seed(console, state_dir, settings, api_url, sandbox_url))
    _print_banner(console, api_url, sandbox_url, demo, data_note, database_url, redis_url)

    child = supervisor.wait()
    console.print(
        f"{child.name} exited with code {child.process.returncode}; stopping everything",
        style="red",
        highlight=False,
    )
    return 1


# --- servers -----------------------------------------------------------------------------------


def _database(
    console: Console, stack: ExitStack, signals: _StopSignals, state_dir: Path
) -> tuple[str, str]:
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        problem = _postgres_problem(configured)
        if problem is None:
            overrides = {"DATABASE_URL": configured, "WALLGUARD_ENV": "dev"}
            url = Settings.from_env(overrides).database_url
            console.print(f"PostgreSQL: using DATABASE_URL ({_where(configured)})", highlight=False)
            return url, f"{_where(configured)} (DATABASE_URL)"
        console.print(
            f"DATABASE_URL ({_where(configured)}) is not reachable ({problem}): "
            "starting an embedded PostgreSQL instead",
            style="yellow",
            highlight=False,
        )
    with signals.held():
        postgres = embedded.start_postgres(state_dir)
        stack.callback(_quietly, console, "PostgreSQL", postgres.stop)
    data_dir = embedded.postgres_data_dir(state_dir)
    console.print(
        f"PostgreSQL: embedded at {_where(postgres.url)}, data in {data_dir}", highlight=False
    )
    return postgres.url, f"{data_dir} (log: server.log)"


def _redis(console: Console, stack: ExitStack, signals: _StopSignals, state_dir: Path) -> str:
    configured = os.environ.get("REDIS_URL", "").strip()
    if configured:
        problem = _redis_problem(configured)
        if problem is None:
            console.print(f"Redis: using REDIS_URL ({_where(configured)})", highlight=False)
            return configured
        console.print(
            f"REDIS_URL ({_where(configured)}) is not reachable ({problem}): "
            "starting an embedded Valkey instead",
            style="yellow",
            highlight=False,
        )
    with signals.held():
        redis = embedded.start_redis(state_dir)
        stack.callback(_quietly, console, "Valkey", redis.stop)
    console.print(
        f"Redis: embedded Valkey at {_where(redis.url)} (nothing kept on disk)", highlight=False
    )
    return redis.url


def _postgres_problem(url: str) -> str | None:
    """None when a connection succeeds within REACHABLE_TIMEOUT, else why not."""
    import asyncpg

    try:
        dsn = Settings.from_env({"DATABASE_URL": url, "WALLGUARD_ENV": "dev"}).database_url
    except Exception as exc:
        return str(exc)
    dsn = dsn.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def probe() -> None:
        connection = await asyncio.wait_for(
            asyncpg.connect(dsn, timeout=REACHABLE_TIMEOUT), REACHABLE_TIMEOUT + 0.5
        )
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return _reason(exc)
    return None


def _redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REACHABLE_TIMEOUT, socket_timeout=REACHABLE_TIMEOUT
        )
    except Exception as exc:
        return _reason(exc)
    try:
        client.ping()
    except Exception as exc:
        return _reason(exc)
    finally:
        client.close()
    return None


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def cli_exports(database_url: str, redis_url: str, api_url: str, api_key: str) -> list[str]:
    """Shell lines that point `wallguard` at a running dev stack. A password in a configured
    URL is not printed (it must not reach a terminal or log): the user has it already."""
    return [
        f"export DATABASE_URL={shlex.quote(_without_password(database_url))}",
        f"export REDIS_URL={shlex.quote(_without_password(redis_url))}",
        f"export WALLGUARD_API_URL={shlex.quote(api_url)}",
        f"export WALLGUARD_API_KEY={shlex.quote(api_key)}",
    ]


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


def _where(url: str) -> str:
    """host:port/path of a URL, without credentials (they must not reach a terminal or log)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


def _port_free(port: int) -> bool:
    """Whether our servers could listen on `port` now. SO_REUSEADDR, as uvicorn sets it: the
    connections of the run just stopped linger in TIME_WAIT for a minute, and without it they
    would make a free port look taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _quietly(console: Console, name: str, stop: Callable[[], None]) -> None:
    """Stop one server; a failure is shown and does not keep the others running."""
    try:
        stop()
    except Exception as exc:
        console.print(f"could not stop {name}: {_reason(exc)}", style="red")


def _stop_children(console: Console, supervisor: Supervisor) -> None:
    if supervisor.children:
        console.print("Stopping the API, worker and sandbox…")
    supervisor.stop()


# --- children ----------------------------------------------------------------------------------


def child_env(
    database_url: str, redis_url: str, api_url: str, sandbox_url: str | None
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WALLGUARD_PUBLIC_URL": api_url,
            "WALLGUARD_ENV": "dev",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # Readable lines in a terminal, unless asked otherwise.
    env.setdefault("WALLGUARD_LOG_JSON", "false")
    # A migration URL from the environment would point somewhere else than this stack.
    env.pop("WALLGUARD_MIGRATION_DATABASE_URL", None)
    if sandbox_url is not None:
        env.update(
            {
                "META_GRAPH_URL": sandbox_url,
                "META_DIALOG_URL": sandbox_url,
                "META_APP_ID": SANDBOX_APP_ID,
                "META_APP_SECRET": SANDBOX_APP_SECRET,
                "META_WEBHOOK_VERIFY_TOKEN": DEV_WEBHOOK_VERIFY_TOKEN,
            }
        )
    return env


def _wait_ready(supervisor: Supervisor, api_url: str, sandbox_url: str | None) -> None:
    """Until the API's /health says 200 and the sandbox answers HTTP at all (it may not have a
    /health of its own); a child that exits first is named."""
    pending = {f"{api_url}/health": True}
    if sandbox_url is not None:
        pending[f"{sandbox_url}/health"] = False
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=1.0) as http:
        while pending:
            if (child := supervisor.exited()) is not None:
                raise DevStackError(
                    f"{child.name} exited with code {child.process.returncode} while starting "
                    "(its output is above)"
                )
            if time.monotonic() > deadline:
                raise DevStackError(f"no answer from {', '.join(pending)} in {READY_TIMEOUT:.0f} s")
            for url, strict in list(pending.items()):
                with contextlib.suppress(httpx.HTTPError):
                    status = http.get(url).status_code
                    if status == 200 or (not strict and status < 500):
                        del pending[url]
            if pending:
                time.sleep(0.1)


# --- demo data ---------------------------------------------------------------------------------


async def _seed(
    console: Console, state_dir: Path, settings: Settings, api_url: str, sandbox_url: str | None
) -> DemoTenant:
    demo = await ensure_demo_tenant(state_dir, settings, api_url)
    context = DevContext(
        console=console,
        state_dir=state_dir,
        settings=settings,
        api_url=api_url,
        sandbox_url=sandbox_url,
        demo=demo,
    )
    for hook in AFTER_START:
        await hook(context)
    return demo


async def ensure_demo_tenant(state_dir: Path, settings: Settings, api_url: str) -> DemoTenant:
    """The demo tenant and a working admin key: the stored ones when the key still authenticates
    (keys are shown once, so they are kept in the state dir), else a new key, or a new tenant
    when the stored one is gone (a fresh database)."""
    from service.apikeys.service import ApiKeyService, onboard_tenant
    from service.auth.tenants import system_tenant
    from service.auth.types import Scope
    from service.db import Database
    from service.tenancy.models import TenantKind
    from service.tenancy.repository import TenantRepository
    from service.tenancy.service import ONBOARDING

    path = state_dir / DEMO_FILE
    stored = _load_demo(path)
    if stored is not None and await _authenticates(api_url, stored.api_key):
        return stored
    db = Database(settings)
    try:
        async with db.system_unit_of_work() as uow:
            tenant = None
            if stored is not None:
                tenant = await TenantRepository(uow.session).get(system_tenant(stored.tenant_id))
            if tenant is None:
                onboarded = await onboard_tenant(uow, DEMO_TENANT_NAME, TenantKind.COMPANY)
                demo = DemoTenant(onboarded.tenant_id, onboarded.api_key)
            else:
                key = await ApiKeyService(uow).issue(
                    system_tenant(tenant.id),
                    "demo admin (wallguard dev)",
                    [Scope.ADMIN],
                    actor=ONBOARDING,
                )
                demo = DemoTenant(tenant.id, key.secret)
    finally:
        await db.dispose()
    _save_demo(path, demo)
    return demo


async def _authenticates(api_url: str, api_key: str) -> bool:
    async with httpx.AsyncClient(base_url=api_url, timeout=10.0) as http:
        response = await http.get("/v1/tenant", headers={"Authorization": f"Bearer {api_key}"})
    if response.status_code in (401, 403):
        return False
    if response.status_code != 200:
        raise DevStackError(f"GET /v1/tenant answered {response.status_code}: {response.text}")
    return True


def _load_demo(path: Path) -> DemoTenant | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return DemoTenant(uuid.UUID(data["tenant_id"]), str(data["api_key"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_demo(path: Path, demo: DemoTenant) -> None:
    """Written 0600 from the start (the file holds an admin key), then moved into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(
            {
                "tenant_id": str(demo.tenant_id),
                "api_key": demo.api_key,
                "tenant_name": DEMO_TENANT_NAME,
            },
            file,
        )
        file.write("\n")
    os.replace(temporary, path)


def _print_banner(
    console: Console,
    api_url: str,
    sandbox_url: str | None,
    demo: DemoTenant,
    data_note: str,
    database_url: str,
    redis_url: str,
) -> None:
    table = Table.grid(padding=(0, 2))
    table.add_row("API", api_url)
    table.add_row("Docs", f"{api_url}/schema")
    table.add_row("Sandbox", sandbox_url or f"not running ({SKIP_SANDBOX_ENV} is set)")
    table.add_row("Tenant", f"{DEMO_TENANT_NAME} ({demo.tenant_id})")
    table.add_row("Database", data_note)
    console.print(Panel(table, title="Wallguard dev", expand=False), highlight=False)
    # Outside the panel and never wrapped, so the lines copy and paste cleanly.
    console.print(f"Demo admin API key: {demo.api_key}", soft_wrap=True, highlight=False)
    console.print(
        f'Try: curl -H "Authorization: Bearer {demo.api_key}" {api_url}/v1/tenant',
        soft_wrap=True,
        highlight=False,
    )
    # What the other `wallguard` commands (tenants, audit, scans ...) need to reach this stack.
    console.print("Point the CLI at this stack:", highlight=False)
    for line in cli_exports(database_url, redis_url, api_url, demo.api_key):
        console.print(f"  {line}", soft_wrap=True, highlight=False)
    console.print("Press Ctrl-C to stop everything.")


# --- signals -----------------------------------------------------------------------------------


class _StopSignals:
    """SIGINT and SIGTERM both mean "stop everything" (as KeyboardInterrupt). While a server or a
    child starts, a signal is held until its stop is registered, so nothing that started can be
    left behind."""

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._holding = False
        self._pending = False
        self._previous: dict[
            int, signal.Handlers | Callable[[int, FrameType | None], object] | int | None
        ] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in self._SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt

    def ignore(self) -> None:
        if self._previous:
            for signum in self._SIGNALS:
                signal.signal(signum, signal.SIG_IGN)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
