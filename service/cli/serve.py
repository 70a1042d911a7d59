"""`wallguard serve`, `migrate`, `openapi`, `sandbox`: the servers and what they are built from."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


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


def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (alembic upgrade) against DATABASE_URL."""
    from service.migrate import upgrade

    upgrade(revision=revision)
    typer.echo(f"database migrated to {revision}")


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


def sandbox(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8900,
    seed: Annotated[
        int | None, typer.Option(help="Seed demo pages and comments from this number.")
    ] = None,
    state_file: Annotated[
        Path | None,
        typer.Option(
            envvar="WALLGUARD_SANDBOX_STATE_FILE",
            help="Keep the platform in this file between runs (loaded at start, then not seeded).",
        ),
    ] = None,
) -> None:
    """Run the platform sandbox (a Graph-API-compatible server for demos and tests)."""
    import dataclasses

    from service.sandbox import SandboxConfig, run_sandbox
    from service.sandbox.persistence import SandboxStateError

    config = SandboxConfig.from_env()
    if seed is not None:
        config = dataclasses.replace(config, seed=seed)
    if state_file is not None:
        config = dataclasses.replace(config, state_file=state_file)
    try:
        run_sandbox(host, port, config)
    except SandboxStateError as exc:
        typer.echo(f"wallguard sandbox: {exc}", err=True)
        raise typer.Exit(1) from None
