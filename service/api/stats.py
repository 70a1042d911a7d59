from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from service.api.auth import READ
from service.api.deps import Caller, Uow
from service.api.problems import problem_responses
from service.inputs import instant
from service.stats.schemas import Stats
from service.stats.service import StatsService


class StatsController(Controller):
    path = "/v1/stats"
    tags = ["Stats"]

    @get(
        operation_id="getStats",
        guards=[READ],
        summary="Findings per type and day, outcomes, unhide rate and time to hide",
        description="Over findings received in [since, until) (default: the last 30 days, at "
        "most 400), optionally for one client or one connection. Time to hide runs from the "
        "comment reaching Wallguard to the platform confirming the hide (p50 and p95, ms).",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def get_stats(
        self,
        uow: Uow,
        principal: Caller,
        client_id: Annotated[uuid.UUID | None, QueryParameter(description="One client")] = None,
        connection_id: Annotated[
            uuid.UUID | None, QueryParameter(description="One connection")
        ] = None,
        since: Annotated[dt.datetime | None, QueryParameter(description="Inclusive")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(description="Exclusive")] = None,
    ) -> Stats:
        return await StatsService(uow).get(
            principal,
            client_id=client_id,
            connection_id=connection_id,
            since=instant(since, "query.since"),
            until=instant(until, "query.until"),
        )
