"""`wallguard audit verify`: the audit hash chains (the work: service/cli/audit_chain.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("verify")
def verify(
    tenant: Annotated[
        str | None, typer.Option(help="One tenant's id (default: every tenant).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Walk each tenant's hash chain; exit 1 when any chain is broken."""
    from service.cli.audit_chain import verify_audit_command
    from service.settings import get_settings

    try:
        tenant_id = uuid.UUID(tenant) if tenant else None
    except ValueError:
        raise typer.BadParameter("not a UUID", param_hint="--tenant") from None
    raise typer.Exit(verify_audit_command(get_settings(), tenant_id, as_json=as_json))
