"""`wallguard tenants create` and `wallguard tenants delete` (operator work)."""

from __future__ import annotations

import asyncio
import enum
import json
from typing import Annotated

import typer

app = typer.Typer(help="Manage tenants.", no_args_is_help=True)


class Kind(enum.StrEnum):
    # The values of service.tenancy.models.TenantKind, restated so that loading the CLI does not
    # load the database models.
    AGENCY = "agency"
    COMPANY = "company"


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The tenant's display name.")],
    kind: Annotated[Kind, typer.Option(help="agency or company.")] = Kind.COMPANY,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a tenant and its first admin API key (shown once)."""
    from service.apikeys.service import onboard_tenant
    from service.db import Database
    from service.settings import get_settings
    from service.tenancy.models import TenantKind

    if not name.strip() or len(name) > 200:
        raise typer.BadParameter("NAME must be 1 to 200 characters", param_hint="NAME")

    async def _create() -> tuple[str, str]:
        db = Database(get_settings())
        try:
            async with db.system_unit_of_work() as uow:
                result = await onboard_tenant(uow, name.strip(), TenantKind(kind.value))
            return str(result.tenant_id), result.api_key
        finally:
            await db.dispose()

    tenant_id, api_key = asyncio.run(_create())
    if as_json:
        typer.echo(json.dumps({"tenant_id": tenant_id, "api_key": api_key}))
    else:
        typer.echo(f"tenant_id: {tenant_id}\napi_key:   {api_key}\n(the key is shown only once)")


@app.command("delete")
def delete(
    tenant_id: Annotated[str, typer.Argument(help="The tenant's id.")],
    confirm: Annotated[
        str | None,
        typer.Option(help="The tenant's id again, to confirm; asked for when left out."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete a tenant and all its data: revoke its keys, unsubscribe its pages, forget their
    tokens, then delete everything (here, not in the worker)."""
    import uuid

    import msgspec

    from service.auth.tenants import system_tenant
    from service.connections.graph import graph_client
    from service.crypto import Cipher
    from service.db import Database
    from service.erasure.tenant import begin_deletion, delete_tenant_data
    from service.errors import WallguardError
    from service.logging import configure_logging
    from service.settings import get_settings

    try:
        tid = system_tenant(uuid.UUID(tenant_id))
    except ValueError:
        raise typer.BadParameter("not a tenant id", param_hint="ID") from None
    typed = (
        confirm
        if confirm is not None
        else typer.prompt(f"This deletes tenant {tid} and all its data. Type its id")
    )

    async def _delete() -> dict[str, object]:
        settings = get_settings()
        # Logs go to stderr (structured); stdout carries the result.
        configure_logging(settings.log_level, settings.log_json)
        db = Database(settings)
        graph = graph_client(settings)
        try:
            started = await begin_deletion(
                db, graph, Cipher(settings.encryption_keys), tid, confirm=typed, actor="cli"
            )
            removed = await delete_tenant_data(db, tid)
            return {**msgspec.structs.asdict(started), "status": "deleted", "removed": removed}
        finally:
            await graph.aclose()
            await db.dispose()

    try:
        result = asyncio.run(_delete())
    except WallguardError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result, default=str))
    else:
        typer.echo(f"tenant {tid} deleted: {result['removed']}")
