"""`wallguard`: the command line (names are part of the contract in shared/INTERFACES.md).

One module per command group (``serve``, ``worker``, ``dev``, ``detect``, ``tenants``, ``keys``,
``audit``, ``scans``, ``meta``, ...). Each imports only typer and the standard library at module
level and everything else inside its command, so a command loads only what it uses:
``wallguard detect`` loads the detection engine and nothing of the database, the queue, the
web framework or the logging setup (tests/cli/test_detect_imports.py checks it).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """The console script: the app, with unreachable databases and APIs said in one line.

    ``wallguard detect`` with plain options skips Typer and the other commands' modules
    (a third of its start-up): it is run once per file, often on small files.
    """
    if sys.argv[1:2] == ["detect"]:
        from service.cli import jsonl

        arguments = jsonl.detect_arguments(sys.argv[2:])
        if arguments is not None:
            raise SystemExit(jsonl.run_files(*arguments))
    from service.cli.errors import run_app
    from service.cli.main import app

    run_app(app)


def __getattr__(name: str) -> Any:
    # `from service.cli import app`: the Typer app, loaded on first use (see main).
    if name == "app":
        from service.cli.main import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
