"""`wallguard scans start|watch`: a backfill through the API, with a progress bar
(the client and the bar: service/cli/progress.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

app = typer.Typer(help="Backfill scans of a page's history.", no_args_is_help=True)
ApiUrl = Annotated[str, typer.Option(envvar="WALLGUARD_API_URL", help="The API's base URL.")]
ApiKey = Annotated[str, typer.Option(envvar="WALLGUARD_API_KEY", help="An admin API key.")]


def _require_key(api_key: str) -> None:
    if not api_key.strip():
        typer.echo(
            "wallguard scans: set WALLGUARD_API_KEY (or pass --api-key) to an admin API key",
            err=True,
        )
        raise typer.Exit(2)


@app.command("start")
def start(
    connection: Annotated[str, typer.Option(help="The connection (page) to scan.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key: ApiKey = "",
    since: Annotated[str | None, typer.Option(help="ISO date-time: posts from.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date-time: posts until.")] = None,
    wait: Annotated[bool, typer.Option(help="Show a progress bar until the scan ends.")] = False,
) -> None:
    """Start a backfill scan through the API (and follow it with --wait)."""
    from service.cli.progress import exit_code, start_scan, watch_scan

    _require_key(api_key)
    try:
        connection_id = uuid.UUID(connection)
    except ValueError:
        raise typer.BadParameter("not a UUID", param_hint="--connection") from None
    scan = start_scan(api_url, api_key, connection_id, since=since, until=until)
    typer.echo(f"scan {scan.id} {scan.status.value}")
    if wait:
        scan = watch_scan(api_url, api_key, scan.id)
        raise typer.Exit(exit_code(scan))


@app.command("watch")
def watch(
    scan_id: Annotated[str, typer.Argument(help="The scan's id.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key: ApiKey = "",
) -> None:
    """Show a scan's progress bar until it ends."""
    from service.cli.progress import exit_code, watch_scan

    _require_key(api_key)
    try:
        parsed = uuid.UUID(scan_id)
    except ValueError:
        raise typer.BadParameter("not a UUID", param_hint="SCAN_ID") from None
    raise typer.Exit(exit_code(watch_scan(api_url, api_key, parsed)))
