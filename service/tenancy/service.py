"""Tenant and client operations. Services never commit: the unit of work does, once."""

from __future__ import annotations

import uuid

from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import Principal, TenantId
from service.db import UnitOfWork, flush_or_conflict
from service.errors import Forbidden, NotFound
from service.structs import apply_changes, changes, to_schema
from service.tenancy import schemas
from service.tenancy.models import Client, Tenant, TenantKind
from service.tenancy.repository import ClientRepository, TenantRepository

# Who creates tenants: an operator (`wallguard tenants create`, `wallguard dev`), not an API key.
ONBOARDING = "system:onboarding"
# Audit data names the fields a change set, never their values (names can be people's, and
# nothing secret may enter the trail).


def _tenant_wide(principal: Principal) -> None:
    if principal.client_id is not None:
        raise Forbidden("This API key is restricted to one client and cannot do this.")


class TenantService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.tenants = TenantRepository(uow.session)

    async def create(
        self, name: str, kind: TenantKind = TenantKind.COMPANY, *, actor: str = ONBOARDING
    ) -> Tenant:
        tenant = Tenant(name=name, kind=kind)
        self.tenants.add(tenant)
        await self.uow.session.flush()
        record(
            self.uow,
            system_tenant(tenant.id),
            actor=actor,
            action="tenant.created",
            subject_type="tenant",
            subject_id=tenant.id,
            data={"kind": kind.value},
        )
        return tenant

    async def _load(self, tenant_id: TenantId) -> Tenant:
        tenant = await self.tenants.get(tenant_id)
        if tenant is None:  # only if deleted between authentication and now
            raise NotFound("Tenant not found.")
        return tenant

    async def get(self, principal: Principal) -> schemas.Tenant:
        return to_schema(await self._load(principal.tenant_id), schemas.Tenant)

    async def update(self, principal: Principal, data: schemas.TenantUpdate) -> schemas.Tenant:
        _tenant_wide(principal)
        tenant = await self._load(principal.tenant_id)
        values = changes(data)
        apply_changes(tenant, values)
        await self.uow.session.flush()
        if values:
            record(
                self.uow,
                principal.tenant_id,
                actor=principal.actor,
                action="tenant.updated",
                subject_type="tenant",
                subject_id=tenant.id,
                data={"fields": sorted(values)},
            )
        return to_schema(tenant, schemas.Tenant)


class ClientService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.clients = ClientRepository(uow.session)

    async def load(self, principal: Principal, client_id: uuid.UUID) -> Client:
        """A client the caller may see; another tenant's or another client's id is a 404."""
        if principal.client_id is not None and principal.client_id != client_id:
            raise NotFound(f"Client {client_id} not found.")
        client = await self.clients.get(principal.tenant_id, client_id)
        if client is None:
            raise NotFound(f"Client {client_id} not found.")
        return client

    async def create(self, principal: Principal, data: schemas.ClientCreate) -> schemas.Client:
        _tenant_wide(principal)
        values = changes(data)
        client = Client(tenant_id=principal.tenant_id, **values)
        self.clients.add(client)
        await flush_or_conflict(
            self.uow.session, "A client with this name or external_ref already exists."
        )
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="client.created",
            subject_type="client",
            subject_id=client.id,
            data={"fields": sorted(k for k, v in values.items() if v is not None)},
        )
        return to_schema(client, schemas.Client)

    async def get(self, principal: Principal, client_id: uuid.UUID) -> schemas.Client:
        return to_schema(await self.load(principal, client_id), schemas.Client)

    async def list(
        self, principal: Principal, *, cursor: str | None, limit: int
    ) -> schemas.ClientList:
        rows, next_cursor = await self.clients.list(
            principal.tenant_id, only=principal.client_id, cursor=cursor, limit=limit
        )
        return schemas.ClientList(
            items=[to_schema(c, schemas.Client) for c in rows], next_cursor=next_cursor
        )

    async def update(
        self, principal: Principal, client_id: uuid.UUID, data: schemas.ClientUpdate
    ) -> schemas.Client:
        client = await self.load(principal, client_id)
        values = changes(data)
        apply_changes(client, values)
        await flush_or_conflict(
            self.uow.session, "A client with this name or external_ref already exists."
        )
        if values:
            record(
                self.uow,
                principal.tenant_id,
                actor=principal.actor,
                action="client.updated",
                subject_type="client",
                subject_id=client.id,
                data={"fields": sorted(values)},
            )
        return to_schema(client, schemas.Client)

    async def delete(self, principal: Principal, client_id: uuid.UUID) -> None:
        _tenant_wide(principal)
        client = await self.load(principal, client_id)
        await self.clients.delete(client)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="client.deleted",
            subject_type="client",
            subject_id=client_id,
        )
