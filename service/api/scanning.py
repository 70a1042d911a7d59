from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from service.api.auth import ADMIN, READ
from service.api.deps import Caller, Cursor, PageSize, Uow, UpdatedSince
from service.api.problems import problem_responses
from service.pagination import DEFAULT_LIMIT
from service.scanning.schemas import Scan, ScanCreate, ScanList
from service.scanning.service import ScanService


class ScanController(Controller):
    path = "/v1/scans"
    tags = ["Scans"]

    @post(
        operation_id="createScan",
        opt={"idempotent": True},
        guards=[ADMIN],
        status_code=HTTP_202_ACCEPTED,
        summary="Scan a page's history (backfill)",
        description="Walks the connection's posts (only those created in [since, until] when "
        "given) and every comment and reply under them, handling each as a live comment would "
        "be: findings are recorded and hidden according to the policy. Runs in the background; "
        "poll `getScan` for progress. One active scan per connection.",
        responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
    )
    async def create_scan(self, uow: Uow, principal: Caller, data: JSONBody[ScanCreate]) -> Scan:
        return await ScanService(uow).create(principal, data)

    @get(
        operation_id="listScans",
        guards=[READ],
        summary="List scans",
        description="Newest first; with `updated_since`, a change feed: every scan created or "
        "changed since then (progress, completion), oldest change first.",
        responses=problem_responses(400, 401, 403),
    )
    async def list_scans(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: Annotated[
            uuid.UUID | None, QueryParameter(description="Only this connection's scans")
        ] = None,
        updated_since: UpdatedSince = None,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> ScanList:
        return await ScanService(uow).list(
            principal,
            connection_id=connection_id,
            cursor=cursor,
            limit=limit,
            updated_since=updated_since,
        )

    @get(
        "/{scan_id:uuid}",
        operation_id="getScan",
        guards=[READ],
        summary="A scan's status and live progress",
        responses=problem_responses(401, 403, 404),
    )
    async def get_scan(self, uow: Uow, principal: Caller, scan_id: FromPath[uuid.UUID]) -> Scan:
        return await ScanService(uow).get(principal, scan_id)

    @post(
        "/{scan_id:uuid}/cancel",
        operation_id="cancelScan",
        guards=[ADMIN],
        status_code=HTTP_200_OK,
        summary="Cancel a scan",
        description="The scan stops after the page of comments it is working on; what it has "
        "found and hidden so far stays.",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def cancel_scan(self, uow: Uow, principal: Caller, scan_id: FromPath[uuid.UUID]) -> Scan:
        return await ScanService(uow).cancel(principal, scan_id)
