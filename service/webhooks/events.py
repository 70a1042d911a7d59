"""The catalogue of outbound webhook events: names, descriptions and payload schemas.

Every event is sent as the Standard Webhooks body ``{"type", "timestamp", "data"}``. ``data`` is
one of the Structs below and is the contract agencies generate types from: it is served with its
JSON Schema at ``GET /v1/webhook-event-types`` and appears as OpenAPI 3.1 ``webhooks`` in
openapi/openapi.json. Payloads carry ids, platform ids, types, scores, masked values, times and
the API URL of the resource; never a raw personal value, never a comment's text, never the
commenter's platform id.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import msgspec

from service.detection import EntityType

# The contract's own status names. The webhooks domain sits below the domains that send events
# (it does not import their models); tests/webhooks/test_units.py checks these lists against
# their enums, so a new status cannot slip into a payload undocumented.
PLATFORMS = ("facebook", "instagram")
FINDING_STATUSES = (
    "hidden",
    "monitored",
    "reported",
    "pending_hide",
    "hide_failed",
    "unhidden",
    "confirmed",
)
FINDING_SOURCES = ("realtime", "poll", "scan")
SCAN_STATUSES = ("pending", "running", "waiting", "completed", "cancelled", "failed")
CONNECTION_STATUSES = ("active", "paused", "needs_reauth", "revoked")
STORM_STATUSES = ("active", "ended")
Platform = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(PLATFORMS)})]
FindingStatus = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(FINDING_STATUSES)})]
FindingSource = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(FINDING_SOURCES)})]
ScanStatus = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(SCAN_STATUSES)})]
ConnectionStatus = Annotated[
    str, msgspec.Meta(extra_json_schema={"enum": list(CONNECTION_STATUSES)})
]
StormStatus = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(STORM_STATUSES)})]


class EventType(enum.StrEnum):
    FINDING_CREATED = "finding.created"
    FINDING_CONFIRMED = "finding.confirmed"
    COMMENT_HIDDEN = "comment.hidden"
    COMMENT_HIDE_FAILED = "comment.hide_failed"
    COMMENT_UNHIDDEN = "comment.unhidden"
    COMMENT_REPLIED = "comment.replied"
    SCAN_COMPLETED = "scan.completed"
    SCAN_FAILED = "scan.failed"
    CONNECTION_CONNECTED = "connection.connected"
    CONNECTION_NEEDS_REAUTH = "connection.needs_reauth"
    CONNECTION_REVOKED = "connection.revoked"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    WEBHOOK_TEST = "webhook.test"
    RESPONSE_OVERDUE = "response.overdue"
    STORM_STARTED = "storm.started"
    STORM_ENDED = "storm.ended"


class WebhookEntity(msgspec.Struct, kw_only=True):
    """One value found in the comment, masked (``+45 •• •• •• 78``): never the value itself."""

    type: EntityType
    score: float
    masked: str


class FindingEventData(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    finding_id: uuid.UUID
    scan_id: uuid.UUID | None
    platform: Platform
    post_id: str | None
    comment_id: str
    permalink_url: str | None
    # The page's own reply: reported, never hidden.
    by_page: bool
    types: list[EntityType]
    entities: list[WebhookEntity]
    max_score: float
    status: FindingStatus
    source: FindingSource
    comment_created_at: dt.datetime | None
    received_at: dt.datetime
    hidden_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    # The finding in the API: GET it with an API key.
    url: str


class CommentEventData(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    finding_id: uuid.UUID | None
    action_id: uuid.UUID
    platform: Platform
    post_id: str | None
    comment_id: str
    # The finding's status after this action.
    finding_status: FindingStatus | None
    # Why a hide failed (a platform error code or a short reason; never content).
    error: str | None
    # The platform id of the page's reply (comment.replied).
    reply_id: str | None
    occurred_at: dt.datetime
    url: str | None


class ScanEventData(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    scan_id: uuid.UUID
    status: ScanStatus
    since: dt.datetime | None
    until: dt.datetime | None
    posts_scanned: int
    comments_scanned: int
    findings: int
    hidden: int
    errors: int
    error: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    url: str


class ConnectionEventData(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    platform: Platform
    # The page's (or Instagram account's) platform id and name.
    external_id: str
    name: str
    status: ConnectionStatus
    reason: str | None
    occurred_at: dt.datetime
    url: str


class EndpointDisabledEventData(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID | None
    endpoint_id: uuid.UUID
    endpoint_url: str
    reason: str
    disabled_at: dt.datetime
    url: str


class WebhookTestData(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID | None
    endpoint_id: uuid.UUID
    message: str
    sent_at: dt.datetime


class ResponseOverdueEventData(msgspec.Struct, kw_only=True):
    """A customer comment whose promised first response was not kept (README, "Response times
    and storms")."""

    tenant_id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    # Wallguard's id of the tracked comment (an item of GET /v1/unanswered).
    tracked_comment_id: uuid.UUID
    platform: Platform
    post_id: str | None
    comment_id: str
    commented_at: dt.datetime
    # The promised first response in service-hour minutes, and the last instant that kept it.
    promise_minutes: int
    deadline_at: dt.datetime
    # Null while still unanswered; a time after the deadline when answered late.
    first_reply_at: dt.datetime | None
    noticed_at: dt.datetime
    # The connection's unanswered comments in the API, oldest first.
    url: str


class StormPostData(msgspec.Struct, kw_only=True):
    post_id: str
    # Customer comments on it in the storm (over its last 15 minutes while it lasts).
    comments: int


class StormEventData(msgspec.Struct, kw_only=True):
    """A comment storm on a page: started, or ended (README, "Storms")."""

    tenant_id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID
    storm_id: uuid.UUID
    platform: Platform
    status: StormStatus
    started_at: dt.datetime
    detected_at: dt.datetime
    ended_at: dt.datetime | None
    # Customer comments per minute: the page's baseline for this time of the week, the rate
    # over the last 5 minutes, and the highest rate seen.
    baseline_per_minute: float
    rate_per_minute: float
    peak_per_minute: float
    comments: int
    posts: list[StormPostData]
    url: str


EventData = (
    FindingEventData
    | CommentEventData
    | ScanEventData
    | ConnectionEventData
    | EndpointDisabledEventData
    | WebhookTestData
    | ResponseOverdueEventData
    | StormEventData
)


@dataclass(frozen=True, slots=True)
class EventSpec:
    event_type: EventType
    description: str
    data: type[msgspec.Struct]
    # The whole body {"type", "timestamp", "data"} as a Struct: its JSON Schema is the contract.
    envelope: type[msgspec.Struct]


def _envelope(event_type: EventType, data: type[msgspec.Struct]) -> type[msgspec.Struct]:
    name = "".join(part.title() for part in event_type.value.replace("_", ".").split(".")) + (
        "Event"
    )
    return msgspec.defstruct(
        name,
        [
            ("type", cast(Any, Literal[event_type.value])),  # noqa: RUF100
            ("timestamp", dt.datetime),
            ("data", data),
        ],
        kw_only=True,
        module=__name__,
    )


_DESCRIPTIONS: dict[EventType, tuple[str, type[msgspec.Struct]]] = {
    EventType.FINDING_CREATED: (
        "Personal data was found in a comment (live, polled or by a scan). `status` says what "
        "the policy did: `pending_hide`, `hidden`, `monitored` or `reported` (the page's own "
        "reply).",
        FindingEventData,
    ),
    EventType.FINDING_CONFIRMED: (
        "Someone reviewed a finding and confirmed it was right.",
        FindingEventData,
    ),
    EventType.COMMENT_HIDDEN: (
        "Wallguard hid the comment on the platform (the author still sees it).",
        CommentEventData,
    ),
    EventType.COMMENT_HIDE_FAILED: (
        "Hiding the comment failed for good (after retries); `error` says why.",
        CommentEventData,
    ),
    EventType.COMMENT_UNHIDDEN: (
        "A hidden comment was restored on the platform after review.",
        CommentEventData,
    ),
    EventType.COMMENT_REPLIED: (
        "The page replied to the comment, pointing the customer to a private channel.",
        CommentEventData,
    ),
    EventType.SCAN_COMPLETED: ("A backfill scan of a page's history finished.", ScanEventData),
    EventType.SCAN_FAILED: (
        "A backfill scan stopped on an error; `error` says why.",
        ScanEventData,
    ),
    EventType.CONNECTION_CONNECTED: (
        "A page or Instagram account was connected (or re-authorised).",
        ConnectionEventData,
    ),
    EventType.CONNECTION_NEEDS_REAUTH: (
        "The platform refused the page's token: re-authorise the page; its work waits meanwhile.",
        ConnectionEventData,
    ),
    EventType.CONNECTION_REVOKED: (
        "A connection was deleted: the page is unsubscribed and its token forgotten.",
        ConnectionEventData,
    ),
    EventType.WEBHOOK_ENDPOINT_DISABLED: (
        "Wallguard disabled one of the tenant's webhook endpoints (it answered 410 Gone, or it "
        "failed for 5 days in a row). Sent to the tenant's other endpoints.",
        EndpointDisabledEventData,
    ),
    EventType.WEBHOOK_TEST: (
        "Sent by `POST /v1/webhook-endpoints/{id}/test` to check an endpoint.",
        WebhookTestData,
    ),
    EventType.RESPONSE_OVERDUE: (
        "A customer comment was not answered within the promised first response, counted in "
        "service hours: sent once per comment, when the promise breaks.",
        ResponseOverdueEventData,
    ),
    EventType.STORM_STARTED: (
        "A page draws far more customer comments than its own baseline for this time of the "
        "week; `posts` are the posts drawing them.",
        StormEventData,
    ),
    EventType.STORM_ENDED: (
        "A storm ended: the rate has stayed near the baseline for 10 minutes; `ended_at` is the "
        "last time it was still elevated.",
        StormEventData,
    ),
}

CATALOGUE: dict[EventType, EventSpec] = {
    event_type: EventSpec(event_type, description, data, _envelope(event_type, data))
    for event_type, (description, data) in _DESCRIPTIONS.items()
}


def json_schema(event_type: EventType) -> dict[str, Any]:
    """The body's JSON Schema (2020-12), self-contained (``$defs``)."""
    schema: dict[str, Any] = msgspec.json.schema(CATALOGUE[event_type].envelope)
    return schema


def openapi_components() -> tuple[dict[EventType, dict[str, Any]], dict[str, Any]]:
    """Each event's body as a ``$ref`` into ``components/schemas``, and those components."""
    specs = list(CATALOGUE.values())
    refs, components = msgspec.json.schema_components(
        [spec.envelope for spec in specs], ref_template="#/components/schemas/{name}"
    )
    return {spec.event_type: ref for spec, ref in zip(specs, refs, strict=True)}, components


def body(event_type: EventType, timestamp: dt.datetime, data: msgspec.Struct) -> bytes:
    """The exact bytes sent and signed."""
    expected = CATALOGUE[event_type].data
    if not isinstance(data, expected):
        raise TypeError(f"{event_type} carries {expected.__name__}, not {type(data).__name__}")
    return msgspec.json.encode({"type": event_type.value, "timestamp": timestamp, "data": data})
