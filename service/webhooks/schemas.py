from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

from service.inputs import NUL_FREE_URL, instant_problem, text
from service.webhooks.events import EventType
from service.webhooks.models import DeliveryStatus

EndpointUrl = Annotated[
    str,
    msgspec.Meta(
        max_length=2000,
        pattern=NUL_FREE_URL,
        examples=["https://hooks.example.com/wallguard"],
    ),
]
Description = Annotated[str, text(max_length=500)]
EventTypes = Annotated[
    list[EventType],
    msgspec.Meta(max_length=len(EventType), description="Empty: every event type"),
]
AwareDatetime = Annotated[dt.datetime, msgspec.Meta(tz=True, examples=["2026-12-01T00:00:00Z"])]


class WebhookEndpoint(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    # Only events of this client's pages are sent here (every event of the tenant when null).
    client_id: uuid.UUID | None
    url: str
    description: str | None
    event_types: list[EventType]
    enabled: bool
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    # Since when every attempt has failed (null after a success); disabled after 5 days.
    failing_since: dt.datetime | None
    # Until then the previous secret signs too (after a rotation).
    previous_secret_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookEndpointWithSecret(WebhookEndpoint, kw_only=True):
    """Returned on creation and rotation only: the secret is never shown again."""

    secret: str


class WebhookEndpointCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: EndpointUrl
    event_types: EventTypes = msgspec.field(default_factory=list)
    client_id: uuid.UUID | None = None
    description: Description | None = None


class WebhookEndpointUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: EndpointUrl | msgspec.UnsetType = msgspec.UNSET
    event_types: EventTypes | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    # Re-enabling clears the failure streak; deliveries failed meanwhile can be replayed.
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class WebhookEndpointList(msgspec.Struct, kw_only=True):
    items: list[WebhookEndpoint]
    next_cursor: str | None


class ReplayRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    since: AwareDatetime

    def __post_init__(self) -> None:
        # Year 1 parses, but arithmetic on it overflows (service/inputs.py).
        if (problem := instant_problem(self.since)) is not None:
            raise ValueError(f"since {problem}")


class ReplayAccepted(msgspec.Struct, kw_only=True):
    # Failed deliveries queued again (same webhook-id each).
    replayed: int


class WebhookDelivery(msgspec.Struct, kw_only=True):
    """One event to one endpoint. ``id`` is the ``webhook-id`` header."""

    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    status: DeliveryStatus
    attempt_count: int
    # When the next attempt is due (pending deliveries only).
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    succeeded_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookAttempt(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    attempted_at: dt.datetime
    status_code: int | None
    duration_ms: float
    error: str | None
    # The first 1 KiB of the receiver's answer.
    response_excerpt: str | None


class WebhookDeliveryDetail(WebhookDelivery, kw_only=True):
    attempts: list[WebhookAttempt]
    # The signed body as sent: {"type", "timestamp", "data"}.
    payload: dict[str, Any]


class WebhookDeliveryList(msgspec.Struct, kw_only=True):
    items: list[WebhookDelivery]
    next_cursor: str | None


class WebhookEventType(msgspec.Struct, kw_only=True):
    name: EventType
    description: str
    # JSON Schema (2020-12) of the whole body.
    schema: dict[str, Any]


class WebhookEventTypeList(msgspec.Struct, kw_only=True):
    items: list[WebhookEventType]
