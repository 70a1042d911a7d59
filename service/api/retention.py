from __future__ import annotations

import uuid

from litestar import Controller, get, patch
from litestar.params import FromPath, JSONBody

from service.api.auth import ADMIN, READ
from service.api.deps import BEARER, Caller, Uow
from service.api.problems import problem_responses
from service.retention.schemas import (
    ClientRetention,
    ClientRetentionUpdate,
    TenantRetention,
    TenantRetentionUpdate,
)
from service.retention.service import RetentionService


class TenantRetentionController(Controller):
    path = "/v1/tenant/retention"
    tags = ["Retention"]
    security = BEARER

    @get(
        operation_id="getTenantRetention",
        guards=[READ],
        summary="How long the tenant's records are kept",
        responses=problem_responses(401, 403),
    )
    async def get_tenant_retention(self, uow: Uow, principal: Caller) -> TenantRetention:
        return await RetentionService(uow).tenant(principal)

    @patch(
        operation_id="updateTenantRetention",
        guards=[ADMIN],
        summary="Change the tenant's retention periods",
        description="Each field optional; `null` goes back to the default. Out-of-range values "
        "get 422 (audit events are kept at least 30 days).",
        responses=problem_responses(400, 401, 403, 415, 422),
    )
    async def update_tenant_retention(
        self, uow: Uow, principal: Caller, data: JSONBody[TenantRetentionUpdate]
    ) -> TenantRetention:
        return await RetentionService(uow).update_tenant(principal, data)


class ClientRetentionController(Controller):
    path = "/v1/clients/{client_id:uuid}/retention"
    tags = ["Retention"]
    security = BEARER

    @get(
        operation_id="getClientRetention",
        guards=[READ],
        summary="A client's retention overrides and what applies to it",
        responses=problem_responses(401, 403, 404),
    )
    async def get_client_retention(
        self, uow: Uow, principal: Caller, client_id: FromPath[uuid.UUID]
    ) -> ClientRetention:
        return await RetentionService(uow).client(principal, client_id)

    @patch(
        operation_id="updateClientRetention",
        guards=[ADMIN],
        summary="Override retention periods for one client",
        description="Each field optional; `null` inherits the tenant's period again. The audit "
        "trail's period is the tenant's alone (`/v1/tenant/retention`).",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def update_client_retention(
        self,
        uow: Uow,
        principal: Caller,
        client_id: FromPath[uuid.UUID],
        data: JSONBody[ClientRetentionUpdate],
    ) -> ClientRetention:
        return await RetentionService(uow).update_client(principal, client_id, data)
