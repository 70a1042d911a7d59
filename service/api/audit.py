from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from service.api.auth import ADMIN, READ
from service.api.deps import Caller, Cursor, PageSize, Uow
from service.api.problems import problem_responses
from service.audit.repository import AuditFilters, AuditTrailService
from service.audit.schemas import AuditChainReport, AuditEventList, AuditOrder
from service.inputs import NUL_FREE, instant
from service.pagination import DEFAULT_LIMIT

# Compared with stored columns: no NUL (PostgreSQL would fail on it, service/inputs.py).
Short = Annotated[str | None, QueryParameter(max_length=128, pattern=NUL_FREE)]


class AuditController(Controller):
    path = "/v1/audit-events"
    tags = ["Audit"]

    @get(
        operation_id="listAuditEvents",
        guards=[READ],
        summary="The tenant's audit trail",
        description="Newest first by default; `order=seq` lists in chain order (oldest first). "
        "`since` is inclusive, `until` exclusive. Keys restricted to one client get 403.",
        responses=problem_responses(400, 401, 403),
    )
    async def list_audit_events(
        self,
        uow: Uow,
        principal: Caller,
        action: Annotated[
            str | None,
            QueryParameter(max_length=64, pattern=NUL_FREE, description="e.g. `scan.created`"),
        ] = None,
        subject_type: Annotated[
            str | None,
            QueryParameter(max_length=32, pattern=NUL_FREE, description="e.g. `connection`"),
        ] = None,
        subject_id: Short = None,
        since: Annotated[dt.datetime | None, QueryParameter(description="Inclusive")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(description="Exclusive")] = None,
        order: FromQuery[AuditOrder] = AuditOrder.NEWEST_FIRST,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> AuditEventList:
        filters = AuditFilters(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            since=instant(since, "query.since"),
            until=instant(until, "query.until"),
        )
        return await AuditTrailService(uow).list(
            principal, filters, order=order, cursor=cursor, limit=limit
        )

    @get(
        "/verify",
        operation_id="verifyAuditChain",
        guards=[ADMIN],
        summary="Verify the audit trail's hash chain",
        description="Walks every retained event in order and checks each one's hash and its "
        "link to the previous one. `valid: false` names the first event that does not match.",
        responses=problem_responses(401, 403),
    )
    async def verify_audit_chain(self, uow: Uow, principal: Caller) -> AuditChainReport:
        return await AuditTrailService(uow).verify(principal)
