"""The ``wallguard`` Typer app: every command module registered on it."""

from __future__ import annotations

import typer

from service.cli import audit, detect, dev, keys, meta, scans, serve, tenants, webhooks, worker

app = typer.Typer(
    help="Wallguard: find and hide personal data on public social pages.",
    no_args_is_help=True,
    add_completion=False,
    # Pretty tracebacks print local variables, which may hold keys or tokens.
    pretty_exceptions_enable=False,
)
app.command()(serve.serve)
app.command()(worker.worker)
app.command()(serve.migrate)
app.command()(serve.openapi)
app.command()(serve.sandbox)
app.command()(detect.detect)
app.command()(dev.dev)
app.add_typer(tenants.app, name="tenants")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(scans.app, name="scans")
app.add_typer(meta.app, name="meta")
app.add_typer(webhooks.app, name="webhooks")
