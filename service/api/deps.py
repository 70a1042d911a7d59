"""Typed request dependencies: everything a controller gets, it gets by name and type here.

The process-wide objects (settings, database, queue, cipher, Graph client, detector) are built
once in the app's lifespan as one ``ApiServices`` and provided from it; a controller never reads
``app.state``. The unit of work is per request: opened for the caller's tenant before the
handler and committed after it returns (rolled back if it raised). That is the API's edge of the
unit-of-work rule (service/db.py): services take it and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from service.api.ratelimit import RateLimiter
from service.auth.types import Principal
from service.crypto import Cipher
from service.db import Database, UnitOfWork
from service.detection import Detector
from service.inbox.routing import DeliveryRouter
from service.pagination import MAX_LIMIT
from service.platforms.graph import GraphClient
from service.queue import Queue
from service.settings import Settings
from service.webhooks.delivery import WebhookSender

_STATE_KEY = "services"


@dataclass(frozen=True, slots=True)
class ApiServices:
    """What the API process shares between requests."""

    settings: Settings
    db: Database
    # None while Redis is unreachable: the API still serves, /ready says so.
    queue: Queue | None
    cipher: Cipher
    graph: GraphClient
    detector: Detector
    rate_limiter: RateLimiter
    # Outbound webhooks: one connection pool and SSRF guard for the process.
    webhook_sender: WebhookSender
    # Inbound webhooks: which connections watch a page, remembered for a moment.
    router: DeliveryRouter = field(default_factory=DeliveryRouter)

    def install(self, app: Litestar) -> None:
        app.state[_STATE_KEY] = self


# Named explicitly so Litestar does not have to infer them from parameter names.
Uow = NamedDependency[UnitOfWork]
Caller = NamedDependency[Principal]
Ciphers = NamedDependency[Cipher]
AppSettings = NamedDependency[Settings]
Db = NamedDependency[Database]
JobQueue = NamedDependency[Queue | None]
Graph = NamedDependency[GraphClient]
Engine = NamedDependency[Detector]
Services = NamedDependency[ApiServices]
Sender = NamedDependency[WebhookSender]


def services_of(state: State) -> ApiServices:
    services: ApiServices = state[_STATE_KEY]
    return services


def _services(state: State) -> ApiServices:
    return services_of(state)


def _settings(services: Services) -> Settings:
    return services.settings


def _db(services: Services) -> Database:
    return services.db


def _queue(services: Services) -> Queue | None:
    return services.queue


def _cipher(services: Services) -> Cipher:
    return services.cipher


def _graph(services: Services) -> GraphClient:
    return services.graph


def _detector(services: Services) -> Detector:
    return services.detector


def _sender(services: Services) -> WebhookSender:
    return services.webhook_sender


async def provide_uow(db: Db, request: Request[Principal, Any, Any]) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request in the caller's tenant; committed after the handler returns
    (before the response is sent), rolled back if it raised."""
    async with db.unit_of_work(request.user.tenant_id) as uow:
        yield uow


def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


DEPENDENCIES = {
    "services": Provide(_services, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
    "db": Provide(_db, sync_to_thread=False),
    "queue": Provide(_queue, sync_to_thread=False),
    "cipher": Provide(_cipher, sync_to_thread=False),
    "graph": Provide(_graph, sync_to_thread=False),
    "detector": Provide(_detector, sync_to_thread=False),
    "sender": Provide(_sender, sync_to_thread=False),
    "uow": Provide(provide_uow),
    "principal": Provide(provide_principal, sync_to_thread=False),
}


Cursor = Annotated[
    str | None,
    QueryParameter(description="`next_cursor` from the previous page", max_length=200),
]
PageSize = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Items per page")]
UpdatedSince = Annotated[
    dt.datetime | None,
    QueryParameter(
        description="A change feed: only items created or changed at or after this time "
        "(ISO 8601), oldest change first, instead of newest first. Page with `next_cursor` "
        "until it is null, then start the next sync from the largest `updated_at` seen.",
    ),
]

# OpenAPI: the document declares this once at its root (service/api/openapi.py); an operation
# repeating it changes nothing, and the public ones opt out through `exclude_from_auth`.
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
