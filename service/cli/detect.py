"""`wallguard detect`: offline detection, JSON Lines in and out (the codec: service/cli/jsonl.py).

Loads the detection engine only: no database, queue, web framework or logging setup.
"""

from __future__ import annotations

from typing import Annotated

import typer


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
    from service.cli import jsonl
    from service.locales import COUNTRIES, COUNTRY_HINT

    regions = [r.strip().upper() for r in region or []]
    if unknown := [r for r in regions if r not in COUNTRIES]:
        typer.echo(f"wallguard detect: --region {unknown[0]!r} must be {COUNTRY_HINT}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(jsonl.run_files(input, output, regions))
