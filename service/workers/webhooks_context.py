"""What the webhook jobs share in a worker process: one sender (its connection pool, SSRF guard
and per-endpoint drains), the cipher for endpoint secrets, the database and the queue. Built by
the worker's startup (service/workers/main.py) and kept in arq's ctx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.crypto import Cipher
from service.db import Database
from service.queue import Queue
from service.settings import Settings
from service.webhooks.delivery import DeliveryConfig, WebhookSender

WEBHOOKS_KEY = "webhooks"


@dataclass(slots=True)
class WebhookContext:
    db: Database
    queue: Queue
    cipher: Cipher
    sender: WebhookSender
    owns_sender: bool = True


def webhooks_of(ctx: dict[str, Any]) -> WebhookContext:
    wctx: WebhookContext = ctx[WEBHOOKS_KEY]
    return wctx


async def webhooks_startup(ctx: dict[str, Any]) -> None:
    """Once ``settings``, ``db`` and ``queue`` are in ``ctx``. Tests may put a
    ``webhook_config`` (DeliveryConfig) or a ready ``webhook_sender`` there first."""
    settings: Settings = ctx["settings"]
    given: WebhookSender | None = ctx.get("webhook_sender")
    sender = given or WebhookSender.from_settings(
        settings, ctx.get("webhook_config") or DeliveryConfig.from_settings(settings)
    )
    ctx[WEBHOOKS_KEY] = WebhookContext(
        db=ctx["db"],
        queue=ctx["queue"],
        cipher=Cipher(settings.encryption_keys),
        sender=sender,
        owns_sender=given is None,
    )


async def webhooks_shutdown(ctx: dict[str, Any]) -> None:
    wctx: WebhookContext | None = ctx.pop(WEBHOOKS_KEY, None)
    if wctx is not None and wctx.owns_sender:
        await wctx.sender.aclose()
