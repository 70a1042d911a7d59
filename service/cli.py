"""`wallguard`: the command line (names are part of the contract in shared/INTERFACES.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from service.tenancy.models import TenantKind

app = typer.Typer(
    help="Wallguard: find and hide personal data on public social pages.",
    no_args_is_help=True,
    add_completion=False,
    # Pretty tracebacks print local variables, which may hold keys or tokens.
    pretty_exceptions_enable=False,
)
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
keys_app = typer.Typer(help="Encryption keys for tokens and events at rest.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
scans_app = typer.Typer(help="Backfill scans of a page's history.", no_args_is_help=True)
app.add_typer(scans_app, name="scans")
ApiUrl = Annotated[str, typer.Option(envvar="WALLGUARD_API_URL", help="The API's base URL.")]
ApiKey = Annotated[str, typer.Option(envvar="WALLGUARD_API_KEY", help="An admin API key.")]
meta_app = typer.Typer(help="The Meta (Facebook/Instagram) app.", no_args_is_help=True)
app.add_typer(meta_app, name="meta")

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Processes (the API is stateless).")] = 1,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    uvicorn.run(
        "service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        log_level="warning",
    )


@app.command()
def worker() -> None:
    """Run the arq worker (scans, hides, replies, webhook deliveries, retention)."""
    from arq.worker import run_worker

    from service.workers.main import worker_settings

    run_worker(worker_settings())


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (alembic upgrade) against DATABASE_URL."""
    from service.migrate import upgrade

    upgrade(revision=revision)
    typer.echo(f"database migrated to {revision}")


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="The tenant's display name.")],
    kind: Annotated[TenantKind, typer.Option(help="agency or company.")] = TenantKind.COMPANY,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a tenant and its first admin API key (shown once)."""
    from service.db import Database
    from service.settings import get_settings
    from service.tenancy.service import onboard_tenant

    if not name.strip() or len(name) > 200:
        raise typer.BadParameter("NAME must be 1 to 200 characters", param_hint="NAME")

    async def _create() -> tuple[str, str]:
        db = Database(get_settings())
        try:
            async with db.system_unit_of_work() as uow:
                result = await onboard_tenant(uow, name.strip(), kind)
            return str(result.tenant_id), result.api_key
        finally:
            await db.dispose()

    tenant_id, api_key = asyncio.run(_create())
    if as_json:
        typer.echo(json.dumps({"tenant_id": tenant_id, "api_key": api_key}))
    else:
        typer.echo(f"tenant_id: {tenant_id}\napi_key:   {api_key}\n(the key is shown only once)")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random key for WALLGUARD_ENCRYPTION_KEYS."""
    from service.crypto import generate_key

    typer.echo(generate_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored token and event with the first key of WALLGUARD_ENCRYPTION_KEYS."""
    from service.connections.service import rotate_encryption
    from service.crypto import Cipher
    from service.db import Database
    from service.settings import get_settings

    async def _rotate() -> int:
        settings = get_settings()
        db = Database(settings)
        try:
            return await rotate_encryption(db, Cipher(settings.encryption_keys))
        finally:
            await db.dispose()

    typer.echo(f"re-encrypted {asyncio.run(_rotate())} values with the primary key")


@meta_app.command("subscribe-webhook")
def meta_subscribe_webhook() -> None:
    """Register WALLGUARD_PUBLIC_URL/webhooks/meta as the app's webhook for page feeds and
    Instagram comments (once per app)."""
    from service.connections.graph import graph_client, subscribe_app_webhooks
    from service.connections.service import webhook_url
    from service.settings import get_settings

    settings = get_settings()
    if not settings.meta_webhook_verify_token:
        raise typer.BadParameter("META_WEBHOOK_VERIFY_TOKEN is not set")

    async def _subscribe() -> dict[str, str | None]:
        async with graph_client(settings) as graph:
            return await subscribe_app_webhooks(
                graph, webhook_url(settings), settings.meta_webhook_verify_token
            )

    problems = asyncio.run(_subscribe())
    for object_type, problem in problems.items():
        outcome = "registered" if problem is None else f"NOT registered ({problem})"
        typer.echo(f"{object_type} webhook {outcome}: {webhook_url(settings)}")
    raise typer.Exit(0 if not any(problems.values()) else 1)


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[
        str | None, typer.Option(help="One tenant's id (default: every tenant).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Walk each tenant's hash chain; exit 1 when any chain is broken."""
    import uuid

    from service.audit.cli import verify_audit_command
    from service.settings import get_settings

    try:
        tenant_id = uuid.UUID(tenant) if tenant else None
    except ValueError:
        raise typer.BadParameter("not a UUID", param_hint="--tenant") from None
    raise typer.Exit(verify_audit_command(get_settings(), tenant_id, as_json=as_json))


@scans_app.command("start")
def scans_start(
    connection: Annotated[str, typer.Option(help="The connection (page) to scan.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key: ApiKey = "",
    since: Annotated[str | None, typer.Option(help="ISO date-time: posts from.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date-time: posts until.")] = None,
    wait: Annotated[bool, typer.Option(help="Show a progress bar until the scan ends.")] = False,
) -> None:
    """Start a backfill scan through the API (and follow it with --wait)."""
    import uuid

    from service.scanning.progress import exit_code, start_scan, watch_scan

    try:
        connection_id = uuid.UUID(connection)
    except ValueError:
        raise typer.BadParameter("not a UUID", param_hint="--connection") from None
    scan = start_scan(api_url, api_key, connection_id, since=since, until=until)
    typer.echo(f"scan {scan.id} {scan.status.value}")
    if wait:
        scan = watch_scan(api_url, api_key, scan.id)
        raise typer.Exit(exit_code(scan))


@scans_app.command("watch")
def scans_watch(
    scan_id: Annotated[str, typer.Argument(help="The scan's id.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key: ApiKey = "",
) -> None:
    """Show a scan's progress bar until it ends."""
    import uuid

    from service.scanning.progress import exit_code, watch_scan

    try:
        parsed = uuid.UUID(scan_id)
    except ValueError:
        raise typer.BadParameter("not a UUID", param_hint="SCAN_ID") from None
    raise typer.Exit(exit_code(watch_scan(api_url, api_key, parsed)))


@app.command()
def openapi(
    output: Annotated[
        Path, typer.Option(help="Where to write; - for stdout.")
    ] = DEFAULT_OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document generated from the app."""
    from service.api.openapi import render_openapi

    document = render_openapi()
    if str(output) == "-":
        sys.stdout.write(document)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(document, encoding="utf-8")
    typer.echo(f"wrote {output}")


@app.command()
def detect(
    input: Annotated[
        str, typer.Option("--input", "-i", help="JSON Lines file, or - for stdin.")
    ] = "-",
    output: Annotated[str, typer.Option("--output", "-o", help="File, or - for stdout.")] = "-",
    region: Annotated[
        list[str] | None, typer.Option(help="Country hint(s) for phone numbers, e.g. DK.")
    ] = None,
) -> None:
    """Detect personal data offline: JSON Lines in, JSON Lines out."""
    from service.detection import jsonl

    src = sys.stdin.buffer if input == "-" else open(input, "rb")  # noqa: SIM115
    dst = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        code = jsonl.run(src, dst, [r.upper() for r in region or []])
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        if dst is not sys.stdout:
            dst.close()
        else:
            dst.flush()
    raise typer.Exit(code)


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8900,
    seed: Annotated[
        int | None, typer.Option(help="Seed demo pages and comments from this number.")
    ] = None,
) -> None:
    """Run the platform sandbox (a Graph-API-compatible server for demos and tests)."""
    import dataclasses

    from service.sandbox import SandboxConfig, run_sandbox

    config = SandboxConfig.from_env()
    if seed is not None:
        config = dataclasses.replace(config, seed=seed)
    run_sandbox(host, port, config)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Sandbox port.")] = 8900,
    state_dir: Annotated[Path, typer.Option(help="Where embedded servers keep data.")] = Path(
        ".wallguard"
    ),
) -> None:
    """The whole stack on one machine: database, Redis, API, worker, sandbox and a demo tenant."""
    from service.devstack.run import run_dev

    raise typer.Exit(run_dev(api_port=port, sandbox_port=sandbox_port, state_dir=state_dir))


if __name__ == "__main__":
    app()
