"""The body of `wallguard audit verify [--tenant ID]`: every tenant's hash chain, checked from the
shell (operator work: it runs as system work, each chain read in its tenant's unit of work)."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from service.audit.repository import verify_tenant
from service.audit.schemas import AuditChainReport
from service.auth.tenants import system_tenant
from service.db import Database
from service.settings import Settings
from service.tenancy.models import Tenant


class TenantChainReport(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    report: AuditChainReport


class AuditVerification(msgspec.Struct, kw_only=True):
    valid: bool
    tenants: list[TenantChainReport]


async def verify_audit(db: Database, tenant_id: uuid.UUID | None = None) -> AuditVerification:
    """Verify one tenant's chain, or every tenant's (listed in a system unit of work, then each
    verified in its own tenant unit of work, so RLS still applies to the events read)."""
    if tenant_id is not None:
        tenant_ids = [tenant_id]
    else:
        async with db.system_unit_of_work() as uow:
            tenant_ids = list(await uow.session.scalars(select(Tenant.id).order_by(Tenant.id)))
    results: list[TenantChainReport] = []
    for tid in tenant_ids:
        tenant = system_tenant(tid)
        async with db.unit_of_work(tenant) as uow:
            report = await verify_tenant(uow, tenant)
        results.append(TenantChainReport(tenant_id=tid, report=report))
    return AuditVerification(valid=all(r.report.valid for r in results), tenants=results)


def render_verification(result: AuditVerification, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Audit chains")
    for column in ("tenant", "events", "seq", "status"):
        table.add_column(column)
    for item in result.tenants:
        report = item.report
        span = "-" if report.first_seq is None else f"{report.first_seq}..{report.last_seq}"
        status = (
            "[green]valid[/green]"
            if report.valid
            else f"[red]broken at seq {report.broken_at_seq}[/red]: {report.reason}"
        )
        table.add_row(str(item.tenant_id), str(report.events), span, status)
    console.print(table)


def verify_audit_command(
    settings: Settings, tenant_id: uuid.UUID | None = None, *, as_json: bool = False
) -> int:
    """The body of `wallguard audit verify`: prints the reports; 0 if every chain is valid,
    1 if one is broken."""

    async def _run() -> AuditVerification:
        db = Database(settings)
        try:
            return await verify_audit(db, tenant_id)
        finally:
            await db.dispose()

    result = asyncio.run(_run())
    if as_json:
        print(msgspec.json.encode(result).decode())
    else:
        render_verification(result)
    return 0 if result.valid else 1
