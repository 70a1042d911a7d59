from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from service.api.auth import READ
from service.api.deps import BEARER, Caller, Cursor, PageSize, Uow
from service.api.problems import problem_responses
from service.pagination import DEFAULT_LIMIT
from service.responses.schemas import ResponseTimes, UnansweredPage
from service.responses.service import ResponseService

ClientFilter = Annotated[uuid.UUID | None, QueryParameter(description="One client")]
ConnectionFilter = Annotated[uuid.UUID | None, QueryParameter(description="One connection")]


class ResponseTimesController(Controller):
    path = "/v1/response-times"
    tags = ["Response times"]
    security = BEARER

    @get(
        operation_id="getResponseTimes",
        guards=[READ],
        summary="First-response times against the promised service hours",
        description="Over customer comments made in [since, until) (default: the last 30 days,"
        " at most 400), in total and per connection: how many, the share answered, p50 and p90"
        " of the response time counted in service hours only, how many were made under a"
        " promise, kept it and broke it. Customer comments are comments with text not written"
        " by the page; comments hidden for personal data are left out unless the service hours"
        " say they count. Figures settle within seconds of a reply (a cron links replies).",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def get_response_times(
        self,
        uow: Uow,
        principal: Caller,
        client_id: ClientFilter = None,
        connection_id: ConnectionFilter = None,
        since: Annotated[dt.datetime | None, QueryParameter(description="Inclusive")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(description="Exclusive")] = None,
    ) -> ResponseTimes:
        return await ResponseService(uow).response_times(
            principal, client_id=client_id, connection_id=connection_id, since=since, until=until
        )


class UnansweredController(Controller):
    path = "/v1/unanswered"
    tags = ["Response times"]
    security = BEARER

    @get(
        operation_id="listUnanswered",
        guards=[READ],
        summary="Customer comments still waiting for the page's reply, oldest first",
        description="Each with the service-hour time waited, its deadline and the service-hour"
        " time left before the promise breaks (negative once broken).",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_unanswered(
        self,
        uow: Uow,
        principal: Caller,
        client_id: ClientFilter = None,
        connection_id: ConnectionFilter = None,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> UnansweredPage:
        return await ResponseService(uow).unanswered(
            principal,
            client_id=client_id,
            connection_id=connection_id,
            cursor=cursor,
            limit=limit,
        )
