from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from service.api.auth import ADMIN, READ
from service.api.deps import Caller, Ciphers, Cursor, PageSize, Uow, UpdatedSince
from service.api.problems import problem_responses
from service.detection import EntityType
from service.findings.models import FindingStatus
from service.findings.schemas import Finding, FindingList, UnhideAccepted
from service.findings.service import FindingService
from service.inputs import instant
from service.pagination import DEFAULT_LIMIT

Since = Annotated[
    dt.datetime | None,
    QueryParameter(description="Received at or after this time (ISO 8601)"),
]
Until = Annotated[
    dt.datetime | None, QueryParameter(description="Received before this time (ISO 8601)")
]


class FindingController(Controller):
    path = "/v1/findings"
    tags = ["Findings"]

    @get(
        operation_id="listFindings",
        guards=[READ],
        summary="List findings",
        description="Newest first; with `updated_since`, a change feed: every finding created "
        "or changed since then (a hide, an unhide, a review), oldest change first.",
        responses=problem_responses(400, 401, 403),
    )
    async def list_findings(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        client_id: FromQuery[uuid.UUID | None] = None,
        connection_id: FromQuery[uuid.UUID | None] = None,
        type: FromQuery[EntityType | None] = None,
        status: FromQuery[FindingStatus | None] = None,
        since: Since = None,
        until: Until = None,
        updated_since: UpdatedSince = None,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> FindingList:
        return await FindingService(uow, cipher).list(
            principal,
            client_id=client_id,
            connection_id=connection_id,
            type_=type,
            status=status,
            since=instant(since, "query.since"),
            until=instant(until, "query.until"),
            cursor=cursor,
            limit=limit,
            updated_since=updated_since,
        )

    @get(
        "/{finding_id:uuid}",
        operation_id="getFinding",
        guards=[READ],
        summary="Get a finding",
        responses=problem_responses(401, 403, 404),
    )
    async def get_finding(
        self, uow: Uow, principal: Caller, cipher: Ciphers, finding_id: FromPath[uuid.UUID]
    ) -> Finding:
        return await FindingService(uow, cipher).get(principal, finding_id)

    @post(
        "/{finding_id:uuid}/unhide",
        operation_id="unhideFinding",
        guards=[ADMIN],
        status_code=HTTP_202_ACCEPTED,
        summary="Restore a comment Wallguard hid by mistake",
        description="Records an unhide (once per comment; asking again changes nothing) that "
        "the worker performs on the platform; the finding turns `unhidden` when the platform "
        "confirms. Audited.",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def unhide_finding(
        self, uow: Uow, principal: Caller, cipher: Ciphers, finding_id: FromPath[uuid.UUID]
    ) -> UnhideAccepted:
        return await FindingService(uow, cipher).unhide(principal, finding_id)

    @post(
        "/{finding_id:uuid}/confirm",
        operation_id="confirmFinding",
        guards=[ADMIN],
        status_code=HTTP_200_OK,
        summary="Mark a finding reviewed and right",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def confirm_finding(
        self, uow: Uow, principal: Caller, cipher: Ciphers, finding_id: FromPath[uuid.UUID]
    ) -> Finding:
        return await FindingService(uow, cipher).confirm(principal, finding_id)
