from __future__ import annotations

import uuid

from litestar import Controller, delete, get, put
from litestar.params import FromPath, JSONBody

from service.api.auth import ADMIN, READ
from service.api.deps import BEARER, AppSettings, Caller, Uow
from service.api.problems import problem_responses
from service.servicehours.schemas import EffectiveServiceHours, ServiceHours, ServiceHoursUpdate
from service.servicehours.service import ServiceHoursService

_PUT_DESCRIPTION = (
    "Replaces them as a whole. `time_zone` is an IANA name (DST follows it); `weekly` gives each"
    " weekday's open intervals in local time (`24:00` closes at midnight; a day left out is"
    " closed); `holidays` are closed dates, `exceptions` dates with hours of their own;"
    " `first_response_minutes` is the promised first response counted in service hours only"
    " (a comment at 21:50 answered at 07:10 with hours 07-22 took 20 minutes). Invalid hours,"
    " an unknown zone or a date listed twice answer 422 with the field in `errors`. Audited."
)


class ClientServiceHoursController(Controller):
    path = "/v1/clients/{client_id:uuid}/service-hours"
    tags = ["Service hours"]
    security = BEARER

    @get(
        operation_id="getClientServiceHours",
        guards=[READ],
        summary="A client's service hours and promised first response",
        description="Until some are stored (`stored` false): around the clock in UTC, nothing"
        " promised; response times are measured all the same.",
        responses=problem_responses(401, 403, 404),
    )
    async def get_client_service_hours(
        self, uow: Uow, principal: Caller, client_id: FromPath[uuid.UUID], settings: AppSettings
    ) -> ServiceHours:
        return await ServiceHoursService(uow, settings).get_client_hours(principal, client_id)

    @put(
        operation_id="putClientServiceHours",
        guards=[ADMIN],
        summary="Replace a client's service hours",
        description=_PUT_DESCRIPTION,
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def put_client_service_hours(
        self,
        uow: Uow,
        principal: Caller,
        client_id: FromPath[uuid.UUID],
        data: JSONBody[ServiceHoursUpdate],
        settings: AppSettings,
    ) -> ServiceHours:
        return await ServiceHoursService(uow, settings).put_client_hours(principal, client_id, data)


class ConnectionServiceHoursController(Controller):
    path = "/v1/connections/{connection_id:uuid}/service-hours"
    tags = ["Service hours"]
    security = BEARER

    @get(
        operation_id="getConnectionServiceHours",
        guards=[READ],
        summary="A connection's own service hours (404 while it follows its client's)",
        responses=problem_responses(401, 403, 404),
    )
    async def get_connection_service_hours(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> ServiceHours:
        return await ServiceHoursService(uow, settings).get_override(principal, connection_id)

    @put(
        operation_id="putConnectionServiceHours",
        guards=[ADMIN],
        summary="Give a connection service hours of its own, replacing its client's",
        description=_PUT_DESCRIPTION,
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def put_connection_service_hours(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        data: JSONBody[ServiceHoursUpdate],
        settings: AppSettings,
    ) -> ServiceHours:
        return await ServiceHoursService(uow, settings).put_override(principal, connection_id, data)

    @delete(
        operation_id="deleteConnectionServiceHours",
        guards=[ADMIN],
        summary="Remove a connection's own service hours: it follows its client's again",
        responses=problem_responses(401, 403, 404),
    )
    async def delete_connection_service_hours(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> None:
        await ServiceHoursService(uow, settings).delete_override(principal, connection_id)

    @get(
        "/effective",
        operation_id="getEffectiveServiceHours",
        guards=[READ],
        summary="The service hours that apply on a connection, and where they come from",
        responses=problem_responses(401, 403, 404),
    )
    async def get_effective_service_hours(
        self,
        uow: Uow,
        principal: Caller,
        connection_id: FromPath[uuid.UUID],
        settings: AppSettings,
    ) -> EffectiveServiceHours:
        return await ServiceHoursService(uow, settings).effective(principal, connection_id)
