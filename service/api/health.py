from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy import text

from service.api.deps import Db, JobQueue


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    database: bool
    redis: bool


class HealthController(Controller):
    tags = ["Operations"]
    opt = {"exclude_from_auth": True}
    include_in_schema = True

    @get("/health", operation_id="health", summary="The process is up")
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        operation_id="ready",
        summary="Database and Redis are reachable",
        responses={
            503: ResponseSpec(
                Readiness, description="A dependency is unreachable", generate_examples=False
            )
        },
    )
    async def ready(self, db: Db, queue: JobQueue) -> Response[Readiness]:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            database = True
        except Exception:
            database = False
        redis = queue is not None and await queue.ping()
        ok = database and redis
        return Response(
            Readiness(status="ok" if ok else "unavailable", database=database, redis=redis),
            status_code=200 if ok else 503,
        )
