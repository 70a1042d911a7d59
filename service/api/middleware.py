"""Request id, structured access log, per-key rate limit."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.api.deps import services_of
from service.api.ratelimit import TooManyRequests
from service.auth.types import Principal

log = structlog.get_logger("wallguard.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


# nginx's convention for "the client closed the connection before the answer".
CLIENT_CLOSED_REQUEST = 499
CLIENT_GONE_KEY = "client_disconnected"


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Gives every request an id (the client's ``X-Request-ID`` when valid), returns it on every
    response and writes one access-log line per request.

    It wraps the whole application (``wrap_application``), not each route: the router's own 404
    and 405 answers, and CORS preflights, carry the id too. A client that went away before its
    answer is logged as 499, not as the 500 of the error it caused while reading the body.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status: int | None = None
        started = time.perf_counter()

        async def receive_watching() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.disconnect":
                state[CLIENT_GONE_KEY] = True
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive_watching, send_with_id)
            finally:
                if state.get(CLIENT_GONE_KEY):
                    status = CLIENT_CLOSED_REQUEST
                # The path only: query strings can carry OAuth codes.
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=500 if status is None else status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )

    return middleware


def rate_limit_middleware(app: ASGIApp) -> ASGIApp:
    """Runs after authentication (it needs the key); public routes have no key and no limit."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        principal: Any = scope.get("user")
        if scope["type"] != ScopeType.HTTP or not isinstance(principal, Principal):
            await app(scope, receive, send)
            return
        limiter = services_of(scope["litestar_app"].state).rate_limiter
        decision = await limiter.hit(principal.api_key_id)
        if decision is None:
            await app(scope, receive, send)
            return
        headers = decision.headers()
        if not decision.allowed:
            raise TooManyRequests(
                f"This API key may send {limiter.describe()}; retry after `Retry-After` seconds.",
                headers=headers,
            )
        encoded = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def wrap_application(app: Litestar) -> Litestar:
    """Put ``request_id_middleware`` around everything the app answers. Litestar's own
    middleware runs per route handler, after routing, so the router's 404/405 would pass it by;
    ``asgi_handler`` is what ``Litestar.__call__`` hands every request to."""
    app.asgi_handler = request_id_middleware(app.asgi_handler)
    return app
