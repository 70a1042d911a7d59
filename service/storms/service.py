from __future__ import annotations

import uuid

from service.auth.types import Principal
from service.connections.models import Platform
from service.db import UnitOfWork
from service.errors import NotFound
from service.pagination import page_of
from service.storms import schemas
from service.storms.models import Storm, StormStatus
from service.storms.repository import StormRepository
from service.webhooks.events import EventType, StormEventData, StormPostData
from service.webhooks.service import api_url, emit


def to_schema(storm: Storm) -> schemas.Storm:
    return schemas.Storm(
        id=storm.id,
        connection_id=storm.connection_id,
        client_id=storm.client_id,
        status=storm.status,
        started_at=storm.started_at,
        detected_at=storm.detected_at,
        ended_at=storm.ended_at,
        baseline_per_minute=round(storm.baseline_per_minute, 3),
        rate_per_minute=round(storm.rate_per_minute, 3),
        peak_per_minute=round(storm.peak_per_minute, 3),
        comments=storm.comments,
        posts=[
            schemas.StormPost(post_id=p["post_id"], comments=p["comments"]) for p in storm.posts
        ],
    )


def storm_event(uow: UnitOfWork, event_type: EventType, storm: Storm, platform: Platform) -> None:
    """``storm.started`` or ``storm.ended``, to the tenant's webhook endpoints, in the unit of
    work that records it."""
    emit(
        uow,
        uow.tenant,
        event_type,
        StormEventData(
            tenant_id=uow.tenant,
            client_id=storm.client_id,
            connection_id=storm.connection_id,
            storm_id=storm.id,
            platform=platform,
            status=storm.status.value,
            started_at=storm.started_at,
            detected_at=storm.detected_at,
            ended_at=storm.ended_at,
            baseline_per_minute=round(storm.baseline_per_minute, 3),
            rate_per_minute=round(storm.rate_per_minute, 3),
            peak_per_minute=round(storm.peak_per_minute, 3),
            comments=storm.comments,
            posts=[
                StormPostData(post_id=p["post_id"], comments=p["comments"]) for p in storm.posts
            ],
            url=api_url(uow.public_url, f"/v1/storms/{storm.id}"),
        ),
        client_id=storm.client_id,
    )


class StormService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.storms = StormRepository(uow.session)

    async def list(
        self,
        principal: Principal,
        *,
        client_id: uuid.UUID | None,
        connection_id: uuid.UUID | None,
        status: StormStatus | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.StormPage:
        if principal.client_id is not None:
            if client_id is not None and client_id != principal.client_id:
                return schemas.StormPage(items=[], next_cursor=None)
            client_id = principal.client_id
        rows = await self.storms.page(
            principal.tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            status=status,
            since=None,
            cursor=cursor,
            limit=limit,
        )
        items, next_cursor = page_of(rows, limit, lambda s: s.id)
        return schemas.StormPage(items=[to_schema(s) for s in items], next_cursor=next_cursor)

    async def get(self, principal: Principal, storm_id: uuid.UUID) -> schemas.Storm:
        storm = await self.storms.get(principal.tenant_id, storm_id)
        if storm is None or (
            principal.client_id is not None and storm.client_id != principal.client_id
        ):
            raise NotFound(f"Storm {storm_id} not found.")
        return to_schema(storm)
