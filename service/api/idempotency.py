"""``Idempotency-Key`` on the POSTs that create things (handlers with ``opt={"idempotent": True}``).

A client that did not get an answer (timeout, dropped connection) sends the same request again
with the same key and gets the first answer, status and body, with ``Idempotent-Replayed:
true``, instead of a second client, key or scan. The key is remembered per tenant for
``WALLGUARD_IDEMPOTENCY_TTL_SECONDS`` (24 h) with a hash of method, path and body: the same key
with another request is a 409. Answers below 500 are remembered; after a server error the key is
forgotten so that the retry runs the operation again. Without the header nothing changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.api.deps import services_of
from service.auth.types import Principal
from service.db import utcnow
from service.errors import PayloadTooLarge
from service.idempotency import service as idempotency
from service.idempotency.errors import InvalidIdempotencyKey

HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _is_idempotent(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return scope.get("method") == "POST" and bool(handler and handler.opt.get("idempotent"))


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    """Runs after authentication: keys are remembered per tenant."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        principal: Any = scope.get("user")
        if (
            scope["type"] != ScopeType.HTTP
            or not isinstance(principal, Principal)
            or not _is_idempotent(scope)
        ):
            await app(scope, receive, send)
            return
        raw_key = dict(scope["headers"]).get(HEADER)
        if raw_key is None:
            await app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _VALID_KEY.match(key):
            raise InvalidIdempotencyKey(
                "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is ideal)."
            )
        services = services_of(scope["litestar_app"].state)
        db, cipher, settings = services.db, services.cipher, services.settings
        body = await _read_body(receive, settings.max_body_bytes)
        digest = hashlib.sha256(b"\0".join([b"POST", scope["path"].encode(), body])).digest()
        async with db.unit_of_work(principal.tenant_id) as uow:
            replay = await idempotency.begin(
                uow,
                cipher,
                key,
                digest,
                ttl=dt.timedelta(seconds=settings.idempotency_ttl_seconds),
                now=utcnow(),
            )
        if replay is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": replay.status,
                    "headers": [
                        (b"content-type", replay.content_type.encode()),
                        (b"content-length", str(len(replay.body)).encode()),
                        (b"idempotent-replayed", b"true"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": replay.body, "more_body": False})
            return

        sent = False

        async def replay_body() -> ReceiveMessage:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        content_type = ""
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await app(scope, replay_body, capture)
        except BaseException:
            async with db.unit_of_work(principal.tenant_id) as uow:
                await idempotency.abandon(uow, key)
            raise
        async with db.unit_of_work(principal.tenant_id) as uow:
            if status >= 500:
                await idempotency.abandon(uow, key)
            else:
                await idempotency.finish(uow, cipher, key, status, content_type, b"".join(chunks))

    return middleware
