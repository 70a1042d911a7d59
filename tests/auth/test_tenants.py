"""Tenancy is a guarantee, not a convention: who may make a ``TenantId``, and what the system
switch of row-level security lets through."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select, text

from service.db import Database
from service.tenancy.models import Tenant
from tests.conftest import MakeTenant

SERVICE = Path(__file__).resolve().parents[2] / "service"


def _mints(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "TenantId"
    ]


def test_tenant_ids_are_made_only_by_auth() -> None:
    outside = {
        str(path.relative_to(SERVICE)): lines
        for path in SERVICE.rglob("*.py")
        if "auth" not in path.relative_to(SERVICE).parts and (lines := _mints(path))
    }
    assert outside == {}
    # The scan sees a mint where there is one.
    assert _mints(SERVICE / "auth" / "tenants.py")


async def test_a_tenant_session_cannot_switch_itself_to_system(
    db: Database, make_tenant: MakeTenant
) -> None:
    a = await make_tenant("A")
    b = await make_tenant("B")
    async with db.unit_of_work(a.tenant_id) as uow:
        await uow.session.execute(text("SELECT set_config('app.system', 'on', true)"))
        seen = set((await uow.session.scalars(select(Tenant.id))).all())
    assert seen == {a.tenant_id}
    # The system role without the switch sees no tenant at all.
    async with db.unit_of_work(a.tenant_id) as uow:
        await uow.session.execute(text(f'SET LOCAL ROLE "{db.settings.db_system_role}"'))
        await uow.session.execute(text("SELECT set_config('app.tenant_id', '', true)"))
        assert (await uow.session.scalars(select(Tenant.id))).all() == []
    # The system unit of work (role and switch) sees both.
    async with db.system_unit_of_work() as uow:
        ids = {a.tenant_id, b.tenant_id}
        seen = set((await uow.session.scalars(select(Tenant.id).where(Tenant.id.in_(ids)))).all())
    assert seen == ids
