from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from service.api.auth import ADMIN
from service.api.deps import BEARER, AppSettings, Caller, Ciphers, Cursor, PageSize, Uow
from service.api.problems import problem_responses
from service.connections.models import Platform
from service.erasure.schemas import (
    AuthorId,
    ErasureRequest,
    ErasureRequestCreate,
    ErasureRequestList,
    SubjectData,
)
from service.erasure.service import ErasureService, SubjectAccessService
from service.pagination import DEFAULT_LIMIT


class ErasureRequestController(Controller):
    path = "/v1/erasure-requests"
    tags = ["Erasure"]
    security = BEARER

    @post(
        operation_id="createErasureRequest",
        guards=[ADMIN],
        status_code=202,
        summary="Erase what is held about an author (GDPR art. 17)",
        description='`{"platform", "author_id"}` or `{"finding_id"}` (that finding\'s '
        "author). Runs as a job: poll the request until `completed`. Afterwards the author's "
        "findings, inbox events and finished moderation actions are gone and a keyed-hash "
        "tombstone keeps polling, backfills and redelivered webhooks from bringing them back. "
        "`delete_on_platform: true` also deletes their comments on the page.",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def create_erasure_request(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        cipher: Ciphers,
        data: JSONBody[ErasureRequestCreate],
    ) -> ErasureRequest:
        return await ErasureService(uow, settings, cipher).create(principal, data)

    @get(
        operation_id="listErasureRequests",
        guards=[ADMIN],
        summary="Erasure requests, newest first",
        responses=problem_responses(400, 401, 403),
    )
    async def list_erasure_requests(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        cipher: Ciphers,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> ErasureRequestList:
        return await ErasureService(uow, settings, cipher).list(
            principal, cursor=cursor, limit=limit
        )

    @get(
        "/{request_id:uuid}",
        operation_id="getErasureRequest",
        guards=[ADMIN],
        summary="An erasure request: its status and, once done, what it removed",
        responses=problem_responses(401, 403, 404),
    )
    async def get_erasure_request(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        cipher: Ciphers,
        request_id: FromPath[uuid.UUID],
    ) -> ErasureRequest:
        return await ErasureService(uow, settings, cipher).get(principal, request_id)


class SubjectDataController(Controller):
    path = "/v1/subject-data"
    tags = ["Erasure"]
    security = BEARER

    @get(
        operation_id="getSubjectData",
        guards=[ADMIN],
        summary="What is held about an author (GDPR art. 15), masked",
        description="Findings (masked excerpts and values), how many webhook events and "
        "moderation actions concern the author, and their erasure requests.",
        responses=problem_responses(400, 401, 403),
    )
    async def get_subject_data(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        cipher: Ciphers,
        platform: Annotated[Platform, QueryParameter(description="`facebook` or `instagram`")],
        author_id: Annotated[AuthorId, QueryParameter(description="The author's platform id")],
    ) -> SubjectData:
        return await SubjectAccessService(uow, settings, cipher).get(principal, platform, author_id)
