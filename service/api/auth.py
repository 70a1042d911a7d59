"""Bearer API-key authentication and scope guards."""

from __future__ import annotations

import datetime as dt
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


class ScopeGuard:
    """A guard that lets through keys holding ``scope`` (or ``admin``). The OpenAPI document
    reads ``scope`` off each operation's guards (service/api/openapi.py), so the scope an
    operation needs is declared once, here, and documented from the same value."""

    __slots__ = ("__name__", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.__name__ = f"requires_{scope.value}"

    def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # Litestar's authentication leaves OPTIONS alone (CORS preflights carry no key), but a
        # controller's guards also run for the OPTIONS handler it generates. That answer is the
        # list of allowed methods, the same for everyone: nothing to guard.
        if connection.scope.get("method") == "OPTIONS":
            return
        principal: Principal | None = connection.scope.get("user")
        if principal is None:
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        if not principal.has(self.scope):
            raise Forbidden(f"This operation needs an API key with the `{self.scope.value}` scope.")


def requires(scope: Scope) -> ScopeGuard:
    return ScopeGuard(scope)


READ = requires(Scope.READ)
ADMIN = requires(Scope.ADMIN)
DETECT = requires(Scope.DETECT)
