"""`wallguard`: the command line (names are part of the contract in shared/INTERFACES.md).

One module per command group (``serve``, ``worker``, ``dev``, ``detect``, ``tenants``, ``keys``,
``audit``, ``scans``, ``meta``, ...). Each imports only typer and the standard library at module
level and everything else inside its command, so a command loads only what it uses:
``wallguard detect`` loads the detection engine and nothing of the database, the queue, the
web framework or the logging setup (tests/cli/test_detect_imports.py checks it).
"""

from __future__ import annotations

from service.cli.errors import run_app
from service.cli.main import app

__all__ = ["app", "main"]


def main() -> None:
    """The console script: the app, with unreachable databases and APIs said in one line."""
    run_app(app)
