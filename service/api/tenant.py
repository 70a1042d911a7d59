from __future__ import annotations

from litestar import Controller, get, patch
from litestar.params import JSONBody

from service.api.auth import ADMIN, READ
from service.api.deps import BEARER, Caller, Uow
from service.api.problems import problem_responses
from service.tenancy.schemas import Tenant, TenantUpdate
from service.tenancy.service import TenantService


class TenantController(Controller):
    path = "/v1/tenant"
    tags = ["Tenant"]
    security = BEARER

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
        responses=problem_responses(400, 401, 403, 422),
    )
    async def update_tenant(
        self, uow: Uow, principal: Caller, data: JSONBody[TenantUpdate]
    ) -> Tenant:
        return await TenantService(uow).update(principal, data)
