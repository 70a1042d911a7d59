from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from service.api.auth import READ
from service.api.deps import BEARER, Caller, Cursor, PageSize, Uow
from service.api.problems import problem_responses
from service.pagination import DEFAULT_LIMIT
from service.storms.models import StormStatus
from service.storms.schemas import Storm, StormPage
from service.storms.service import StormService


class StormController(Controller):
    path = "/v1/storms"
    tags = ["Storms"]
    security = BEARER

    @get(
        operation_id="listStorms",
        guards=[READ],
        summary="Comment storms, newest first",
        description="A storm is a sustained excess of customer comments on a page over its own"
        " baseline for that time of the week (a Poisson tail test over a 5-minute sliding"
        " window with a minimum count; it ends after 10 minutes below 1.5 times the baseline;"
        " README, 'Storms'). Checked every 15 seconds.",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_storms(
        self,
        uow: Uow,
        principal: Caller,
        client_id: Annotated[uuid.UUID | None, QueryParameter(description="One client")] = None,
        connection_id: Annotated[
            uuid.UUID | None, QueryParameter(description="One connection")
        ] = None,
        status: Annotated[StormStatus | None, QueryParameter(description="active or ended")] = None,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> StormPage:
        return await StormService(uow).list(
            principal,
            client_id=client_id,
            connection_id=connection_id,
            status=status,
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/{storm_id:uuid}",
        operation_id="getStorm",
        guards=[READ],
        summary="One storm",
        responses=problem_responses(401, 403, 404),
    )
    async def get_storm(self, uow: Uow, principal: Caller, storm_id: FromPath[uuid.UUID]) -> Storm:
        return await StormService(uow).get(principal, storm_id)
