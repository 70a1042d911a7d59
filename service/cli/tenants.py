"""`wallguard tenants create`: a tenant and its first admin key (operator work)."""

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
