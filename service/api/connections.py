from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK

from service.api.auth import ADMIN, READ
from service.api.deps import AppSettings, Caller, Cursor, PageSize, Services, Uow
from service.api.problems import problem_responses
from service.connections.schemas import (
    Connection,
    ConnectionList,
    ConnectionUpdate,
    OAuthCompleted,
    OAuthStart,
    OAuthStarted,
)
from service.connections.service import ConnectionService
from service.connections.steps import complete_oauth, disconnect, verify_connection
from service.errors import BadRequest
from service.pagination import DEFAULT_LIMIT


class ConnectionController(Controller):
    path = "/v1/connections"
    tags = ["Connections"]

    @post(
        "/oauth/start",
        operation_id="startConnectionOAuth",
        guards=[ADMIN],
        summary="Start connecting a client's Facebook Pages (and linked Instagram accounts)",
        description="Returns the Meta login URL to send the page admin's browser to. The "
        "signed state expires after 15 minutes and is bound to the tenant and client.",
        responses=problem_responses(400, 401, 403, 404, 415, 422, 503),
    )
    async def start_oauth(
        self,
        uow: Uow,
        principal: Caller,
        data: JSONBody[OAuthStart],
        settings: AppSettings,
    ) -> OAuthStarted:
        return await ConnectionService(uow, settings).start_oauth(principal, data)

    @get(
        operation_id="listConnections",
        guards=[READ],
        summary="List connections, newest first",
        responses=problem_responses(400, 401, 403),
    )
    async def list_connections(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        client_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> ConnectionList:
        return await ConnectionService(uow, settings).list(
            principal, client_id=client_id, cursor=cursor, limit=limit
        )

    @get(
        "/{connection_id:uuid}",
        operation_id="getConnection",
        guards=[READ],
        summary="Get a connection",
        responses=problem_responses(401, 403, 404),
    )
    async def get_connection(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        connection_id: FromPath[uuid.UUID],
    ) -> Connection:
        return await ConnectionService(uow, settings).get(principal, connection_id)

    @patch(
        "/{connection_id:uuid}",
        operation_id="updateConnection",
        guards=[ADMIN],
        summary="Pause or resume a connection, or change its country and language",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def update_connection(
        self,
        uow: Uow,
        principal: Caller,
        settings: AppSettings,
        connection_id: FromPath[uuid.UUID],
        data: JSONBody[ConnectionUpdate],
    ) -> Connection:
        return await ConnectionService(uow, settings).update(principal, connection_id, data)

    @delete(
        "/{connection_id:uuid}",
        operation_id="deleteConnection",
        guards=[ADMIN],
        status_code=HTTP_200_OK,
        summary="Disconnect: unsubscribe the app and forget the token (status revoked)",
        responses=problem_responses(401, 403, 404),
    )
    async def delete_connection(
        self, principal: Caller, services: Services, connection_id: FromPath[uuid.UUID]
    ) -> Connection:
        s = services
        revoked = await disconnect(s.db, s.settings, s.graph, s.cipher, principal, connection_id)
        # This process stops routing the page's deliveries to it at once (others within the
        # router's few seconds; the worker skips events of a revoked connection).
        s.router.forget()
        return revoked

    @post(
        "/{connection_id:uuid}/verify",
        operation_id="verifyConnection",
        guards=[ADMIN],
        status_code=HTTP_200_OK,
        summary="Check the token and webhook subscription with the platform now",
        description="A refused token turns the connection `needs_reauth` (with the reason).",
        responses=problem_responses(400, 401, 403, 404, 503),
    )
    async def verify_connection(
        self, principal: Caller, services: Services, connection_id: FromPath[uuid.UUID]
    ) -> Connection:
        s = services
        return await verify_connection(
            s.db, s.settings, s.graph, s.cipher, principal, connection_id
        )


class OAuthCallbackController(Controller):
    """Reached by the page admin's browser, not by API clients: the signed state authenticates."""

    path = "/v1/connections"
    tags = ["Connections"]
    opt = {"exclude_from_auth": True}
    # Meta redirects a browser here; no API client calls it, so the agency document leaves it out.
    include_in_schema = False

    @get(
        "/oauth/callback",
        operation_id="completeConnectionOAuth",
        summary="Meta redirects the browser here after consent",
        description="Exchanges the code for a long-lived token, creates a connection per page "
        "and subscribes the app to each page's feed webhook. Redirects to the start call's "
        "`redirect_to` when one was given, otherwise answers with the connections.",
        responses=problem_responses(400),
    )
    async def complete_oauth(
        self,
        services: Services,
        code: FromQuery[str | None] = None,
        oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
        error: FromQuery[str | None] = None,
    ) -> Response[OAuthCompleted] | Redirect:
        if error or not code or not oauth_state:
            raise BadRequest(f"The authorisation was not completed ({error or 'no code'}).")
        s = services
        verified, completed = await complete_oauth(
            s.db, s.settings, s.graph, s.cipher, code, oauth_state
        )
        # The pages may already be routed to another tenant: this process routes afresh.
        s.router.forget()
        if verified.redirect_to:
            sep = "&" if "?" in verified.redirect_to else "?"
            query = urlencode({"wallguard": "connected", "connections": len(completed.connections)})
            return Redirect(verified.redirect_to + sep + query)
        return Response(completed)
