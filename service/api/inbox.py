"""Inbound platform webhooks (Meta). Not under /v1: Meta calls these, not API clients."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import QueryParameter

from service.api.deps import AppSettings, Services
from service.api.problems import problem_responses
from service.errors import Forbidden
from service.inbox.schemas import Accepted
from service.pipeline.inbox import accept_delivery

# How long a webhook waits for a database connection before it is answered 503.
WEBHOOK_ADMISSION_SECONDS = 2.0


class WebhookAck(msgspec.Struct):
    received: int
    stored: int
    duplicates: int


class MetaWebhookController(Controller):
    path = "/webhooks/meta"
    tags = ["Platform webhooks"]
    opt = {"exclude_from_auth": True}
    # Meta's callback, not part of the API agencies build on: kept out of the published document.
    include_in_schema = False

    @get(
        operation_id="verifyMetaWebhook",
        media_type=MediaType.TEXT,
        summary="Meta's subscription handshake: echoes hub.challenge",
        responses=problem_responses(403),
    )
    async def verify(
        self,
        settings: AppSettings,
        mode: Annotated[str | None, QueryParameter(name="hub.mode")] = None,
        challenge: Annotated[str | None, QueryParameter(name="hub.challenge")] = None,
        verify_token: Annotated[str | None, QueryParameter(name="hub.verify_token")] = None,
    ) -> str:
        expected = settings.meta_webhook_verify_token
        if (
            mode != "subscribe"
            or not expected
            or challenge is None
            or not hmac.compare_digest((verify_token or "").encode(), expected.encode())
        ):
            raise Forbidden("The verify token does not match.")
        return challenge

    @post(
        operation_id="receiveMetaWebhook",
        status_code=200,
        summary="Signed change notifications (X-Hub-Signature-256); stored before the 200",
        responses=problem_responses(400, 401, 413, 503),
    )
    async def receive(
        self, request: Request[Any, Any, Any], services: Services
    ) -> Response[WebhookAck]:
        s = services
        body = await request.body()
        # Verify, store, 200: the answer stays cheap whatever the backlog, and when the
        # database pool is exhausted it is a prompt 503 (Meta delivers again later), not a
        # wait for a connection that outlasts Meta's patience.
        async with s.db.admitted(WEBHOOK_ADMISSION_SECONDS):
            accepted: Accepted = await accept_delivery(
                s.db,
                s.cipher,
                s.settings.meta_app_secret,
                body,
                request.headers.get("x-hub-signature-256"),
                secret_key=s.settings.secret_key,
                router=s.router,
            )
        return Response(
            WebhookAck(
                received=accepted.changes, stored=accepted.stored, duplicates=accepted.duplicates
            )
        )
