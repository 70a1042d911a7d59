"""The tenancy domain's controllers: the caller's tenant (``/v1/tenant``) and the companies whose
pages it guards (``/v1/clients``)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from service.api.auth import ADMIN, READ
from service.api.deps import Caller, Ciphers, Cursor, Db, Graph, PageSize, Uow
from service.api.problems import problem_responses
from service.erasure.tenant import TenantDeletion, TenantDeletionRequest, begin_deletion
from service.errors import Forbidden
from service.pagination import DEFAULT_LIMIT
from service.tenancy.schemas import (
    Client,
    ClientCreate,
    ClientList,
    ClientUpdate,
    Tenant,
    TenantUpdate,
)
from service.tenancy.service import ClientService, TenantService


class TenantController(Controller):
    path = "/v1/tenant"
    tags = ["Tenant"]

    @get(
        operation_id="getTenant",
        guards=[READ],
        summary="The caller's tenant",
        responses=problem_responses(401, 403),
    )
    async def get_tenant(self, uow: Uow, principal: Caller) -> Tenant:
        return await TenantService(uow).get(principal)

    @patch(
        operation_id="updateTenant",
        guards=[ADMIN],
        summary="Rename or change retention",
        responses=problem_responses(400, 401, 403, 415, 422),
    )
    async def update_tenant(
        self, uow: Uow, principal: Caller, data: JSONBody[TenantUpdate]
    ) -> Tenant:
        return await TenantService(uow).update(principal, data)

    @delete(
        operation_id="deleteTenant",
        guards=[ADMIN],
        status_code=202,
        summary="Delete the tenant and all its data",
        description="Send the tenant's id as `confirm`. At once: every API key is revoked "
        "(this one too), the app is unsubscribed from the tenant's pages and their tokens are "
        "forgotten; the data is then deleted by a background job.",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def delete_tenant(
        self,
        principal: Caller,
        db: Db,
        graph: Graph,
        cipher: Ciphers,
        data: JSONBody[TenantDeletionRequest],
    ) -> TenantDeletion:
        if principal.client_id is not None:
            raise Forbidden("This API key is restricted to one client and cannot do this.")
        return await begin_deletion(
            db, graph, cipher, principal.tenant_id, confirm=data.confirm, actor=principal.actor
        )


class ClientController(Controller):
    path = "/v1/clients"
    tags = ["Clients"]

    @get(
        operation_id="listClients",
        guards=[READ],
        summary="List clients, newest first",
        responses=problem_responses(400, 401, 403),
    )
    async def list_clients(
        self,
        uow: Uow,
        principal: Caller,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> ClientList:
        return await ClientService(uow).list(principal, cursor=cursor, limit=limit)

    @post(
        operation_id="createClient",
        opt={"idempotent": True},
        guards=[ADMIN],
        summary="Create a client",
        responses=problem_responses(400, 401, 403, 409, 415, 422),
    )
    async def create_client(
        self, uow: Uow, principal: Caller, data: JSONBody[ClientCreate]
    ) -> Client:
        return await ClientService(uow).create(principal, data)

    @get(
        "/{client_id:uuid}",
        operation_id="getClient",
        guards=[READ],
        summary="Get a client",
        responses=problem_responses(401, 403, 404),
    )
    async def get_client(
        self, uow: Uow, principal: Caller, client_id: FromPath[uuid.UUID]
    ) -> Client:
        return await ClientService(uow).get(principal, client_id)

    @patch(
        "/{client_id:uuid}",
        operation_id="updateClient",
        guards=[ADMIN],
        summary="Update a client",
        responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
    )
    async def update_client(
        self,
        uow: Uow,
        principal: Caller,
        client_id: FromPath[uuid.UUID],
        data: JSONBody[ClientUpdate],
    ) -> Client:
        return await ClientService(uow).update(principal, client_id, data)

    @delete(
        "/{client_id:uuid}",
        operation_id="deleteClient",
        guards=[ADMIN],
        summary="Delete a client and everything that hangs on it",
        responses=problem_responses(401, 403, 404),
    )
    async def delete_client(
        self, uow: Uow, principal: Caller, client_id: FromPath[uuid.UUID]
    ) -> None:
        await ClientService(uow).delete(principal, client_id)
