"""Request-scoped dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from service.auth.types import Principal
from service.crypto import Cipher
from service.db import Database, UnitOfWork
from service.pagination import MAX_LIMIT


async def provide_uow(request: Request[Principal, Any, Any]) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request in the caller's tenant; committed after the handler returns
    (before the response is sent), rolled back if it raised."""
    db: Database = request.app.state.db
    async with db.unit_of_work(request.user.tenant_id) as uow:
        yield uow


def provide_principal(request: Request[Principal, Any, Any]) -> Principal:
    return request.user


def provide_cipher(request: Request[Principal, Any, Any]) -> Cipher:
    cipher: Cipher = request.app.state.cipher
    return cipher


DEPENDENCIES = {
    "cipher": Provide(provide_cipher, sync_to_thread=False),
    "uow": Provide(provide_uow),
    "principal": Provide(provide_principal, sync_to_thread=False),
}

# Named explicitly so Litestar does not have to infer them from parameter names.
Uow = NamedDependency[UnitOfWork]
Caller = NamedDependency[Principal]
Ciphers = NamedDependency[Cipher]

Cursor = Annotated[
    str | None,
    QueryParameter(description="`next_cursor` from the previous page", max_length=200),
]
PageSize = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Items per page")]

# OpenAPI: the operations that need `Authorization: Bearer <api key>`.
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
