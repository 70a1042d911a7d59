"""Tenant and client operations. Services never commit: the unit of work does, once."""

from __future__ import annotations

import uuid

from service.auth.types import Principal, TenantId
from service.db import UnitOfWork, flush_or_conflict
from service.errors import Forbidden, NotFound
from service.structs import apply_changes, changes, to_schema
from service.tenancy import schemas
from service.tenancy.models import Client, Tenant, TenantKind
from service.tenancy.repository import ClientRepository, TenantRepository


def _tenant_wide(principal: Principal) -> None:
    if principal.client_id is not None:
        raise Forbidden("This API key is restricted to one client and cannot do this.")


class TenantService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.tenants = TenantRepository(uow.session)

    async def create(self, name: str, kind: TenantKind = TenantKind.COMPANY) -> Tenant:
        tenant = Tenant(name=name, kind=kind)
        self.tenants.add(tenant)
        await self.uow.session.flush()
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
        apply_changes(tenant, changes(data))
        await self.uow.session.flush()
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
        client = Client(tenant_id=principal.tenant_id, **changes(data))
        self.clients.add(client)
        await flush_or_conflict(
            self.uow.session, "A client with this name or external_ref already exists."
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
        apply_changes(client, changes(data))
        await flush_or_conflict(
            self.uow.session, "A client with this name or external_ref already exists."
        )
        return to_schema(client, schemas.Client)

    async def delete(self, principal: Principal, client_id: uuid.UUID) -> None:
        _tenant_wide(principal)
        client = await self.load(principal, client_id)
        await self.clients.delete(client)
        await self.uow.session.flush()
