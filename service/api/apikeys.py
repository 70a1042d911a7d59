from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from service.api.auth import ADMIN
from service.api.deps import Caller, Cursor, PageSize, Uow
from service.api.problems import problem_responses
from service.apikeys.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyList
from service.apikeys.service import ApiKeyService
from service.pagination import DEFAULT_LIMIT


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    tags = ["API keys"]
    guards = [ADMIN]

    @post(
        operation_id="createApiKey",
        opt={"idempotent": True},
        summary="Create an API key (its secret is shown once)",
        responses=problem_responses(400, 401, 403, 415, 422),
    )
    async def create_api_key(
        self, uow: Uow, principal: Caller, data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        return await ApiKeyService(uow).create(principal, data)

    @get(
        operation_id="listApiKeys",
        summary="List API keys, newest first",
        responses=problem_responses(400, 401, 403),
    )
    async def list_api_keys(
        self,
        uow: Uow,
        principal: Caller,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> ApiKeyList:
        return await ApiKeyService(uow).list(principal, cursor=cursor, limit=limit)

    @get(
        "/{key_id:uuid}",
        operation_id="getApiKey",
        summary="Get an API key",
        responses=problem_responses(401, 403, 404),
    )
    async def get_api_key(self, uow: Uow, principal: Caller, key_id: FromPath[uuid.UUID]) -> ApiKey:
        return await ApiKeyService(uow).get(principal, key_id)

    @delete(
        "/{key_id:uuid}",
        operation_id="revokeApiKey",
        status_code=HTTP_200_OK,
        summary="Revoke an API key (kept, marked revoked)",
        responses=problem_responses(401, 403, 404),
    )
    async def revoke_api_key(
        self, uow: Uow, principal: Caller, key_id: FromPath[uuid.UUID]
    ) -> ApiKey:
        return await ApiKeyService(uow).revoke(principal, key_id)
