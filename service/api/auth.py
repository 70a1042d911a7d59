"""Bearer API-key authentication and scope guards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from service.api.deps import services_of
from service.apikeys import secrets
from service.apikeys.service import authenticate
from service.auth.tenants import claimed_tenant
from service.auth.types import Principal, Scope
from service.errors import Forbidden, Unauthorized


class ApiKeyAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        parsed = secrets.parse(token.strip())
        if parsed is None:
            raise Unauthorized("The API key is malformed.")
        services = services_of(connection.app.state)
        db, settings = services.db, services.settings
        # Its own short transaction: the key's last_used_at is kept even if the request fails.
        async with db.unit_of_work(claimed_tenant(parsed.tenant_id)) as uow:
            principal = await authenticate(
                uow, parsed, dt.timedelta(seconds=settings.api_key_touch_seconds)
            )
        if principal is None:
            raise Unauthorized("The API key is unknown, revoked or expired.")
        return AuthenticationResult(user=principal, auth=None)


def requires(
    scope: Scope,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if not principal.has(scope):
            raise Forbidden(f"This operation needs an API key with the `{scope.value}` scope.")

    guard.__name__ = f"requires_{scope.value}"
    return guard


READ = requires(Scope.READ)
ADMIN = requires(Scope.ADMIN)
DETECT = requires(Scope.DETECT)
