from __future__ import annotations

import uuid

from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody

from service.api.auth import ADMIN, READ
from service.api.deps import AppSettings, Caller, Uow
from service.api.problems import problem_responses
from service.policies.schemas import (
    ConnectionPolicy,
    ConnectionPolicyUpdate,
    EffectivePolicy,
    Policy,
    PolicyUpdate,
)
from service.policies.service import PolicyService


class ClientPolicyController(Controller):
    path = "/v1/clients/{client_id:uuid}/policy"
    tags = ["Policies"]

    @get(
        operation_id="getClientPolicy",
        guards=[READ],
        summary="A client's policy (Wallguard's default until one is stored)",
        responses=problem_responses(401, 403, 404),
    )
    async def get_client_policy(
        self,
        uow: Uow,
        principal: Caller,
        client_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> Policy:
        return await PolicyService(uow, settings).get_client_policy(principal, client_id)

    @put(
        operation_id="putClientPolicy",
        guards=[ADMIN],
        summary="Replace a client's policy (fields left out take the default)",
        description="Custom patterns must compile with RE2 (no look-around or back-references);"
        " reply templates may use {private_channel_url} and {client_name}. Audited.",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def put_client_policy(
        self,
        uow: Uow,
        principal: Caller,
        client_id: FromPath[uuid.UUID],
        data: JSONBody[PolicyUpdate],
        settings: AppSettings,
    ) -> Policy:
        return await PolicyService(uow, settings).put_client_policy(principal, client_id, data)


class ConnectionPolicyController(Controller):
    path = "/v1/connections/{connection_id:uuid}/policy"
    tags = ["Policies"]

    @get(
        operation_id="getConnectionPolicy",
        guards=[READ],
        summary="A connection's override of its client's policy (null fields inherit)",
        responses=problem_responses(401, 403, 404),
    )
    async def get_connection_policy(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> ConnectionPolicy:
        return await PolicyService(uow, settings).get_override(principal, connection_id)

    @put(
        operation_id="putConnectionPolicy",
        guards=[ADMIN],
        summary="Replace a connection's override (fields left out inherit)",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def put_connection_policy(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        data: JSONBody[ConnectionPolicyUpdate],
        settings: AppSettings,
    ) -> ConnectionPolicy:
        return await PolicyService(uow, settings).put_override(principal, connection_id, data)

    @delete(
        operation_id="deleteConnectionPolicy",
        guards=[ADMIN],
        summary="Remove a connection's override: it inherits its client's policy again",
        responses=problem_responses(401, 403, 404),
    )
    async def delete_connection_policy(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> None:
        await PolicyService(uow, settings).delete_override(principal, connection_id)

    @get(
        "/effective",
        operation_id="getEffectivePolicy",
        guards=[READ],
        summary="The policy that applies on a connection, and where each field comes from",
        responses=problem_responses(401, 403, 404),
    )
    async def get_effective_policy(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> EffectivePolicy:
        return await PolicyService(uow, settings).effective(principal, connection_id)
