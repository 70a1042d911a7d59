from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

Share = Annotated[
    float,
    msgspec.Meta(
        ge=0.0,
        le=1.0,
        description="A share from 0 to 1; null when nothing to divide by.",
        examples=[0.8],
    ),
]
Seconds = Annotated[
    float | None,
    msgspec.Meta(
        description="Seconds counted in service hours only (null without samples).",
        examples=[1200.0],
    ),
]


class ResponseFigures(msgspec.Struct, kw_only=True):
    """Customer comments made in the period (not the page's own, not hidden for personal data
    unless the service hours say hidden comments count) and the page's first replies to them."""

    connection_id: Annotated[
        uuid.UUID | None, msgspec.Meta(description="The connection; null for the total.")
    ]
    client_id: Annotated[
        uuid.UUID | None, msgspec.Meta(description="The connection's client; null for the total.")
    ]
    comments: Annotated[int, msgspec.Meta(description="Customer comments.", examples=[120])]
    answered: Annotated[
        int, msgspec.Meta(description="Those the page has replied to.", examples=[96])
    ]
    share_answered: Share | None
    p50_seconds: Seconds
    p90_seconds: Seconds
    promised: Annotated[
        int,
        msgspec.Meta(description="Comments made under a promised first response.", examples=[120]),
    ]
    within_promise: Annotated[
        int, msgspec.Meta(description="Answered within the promise.", examples=[90])
    ]
    breaches: Annotated[
        int,
        msgspec.Meta(
            description="Promises broken: answered late, or unanswered past the deadline.",
            examples=[12],
        ),
    ]
    share_within_promise: (
        Annotated[
            float,
            msgspec.Meta(
                ge=0.0,
                le=1.0,
                description="within_promise / (within_promise + breaches): of the promises"
                " already decided, the share kept; null when none is decided.",
                examples=[0.88],
            ),
        ]
        | None
    )


class ResponseTimes(msgspec.Struct, kw_only=True):
    """First-response times over customer comments made in [since, until)."""

    since: Annotated[dt.datetime, msgspec.Meta(description="Inclusive.")]
    until: Annotated[dt.datetime, msgspec.Meta(description="Exclusive.")]
    client_id: Annotated[uuid.UUID | None, msgspec.Meta(description="The client asked for.")]
    connection_id: Annotated[
        uuid.UUID | None, msgspec.Meta(description="The connection asked for.")
    ]
    total: ResponseFigures
    by_connection: Annotated[
        list[ResponseFigures], msgspec.Meta(description="The same figures per connection.")
    ]
    unanswered_url: Annotated[
        str, msgspec.Meta(description="The comments still waiting, oldest first.")
    ]


class UnansweredComment(msgspec.Struct, kw_only=True):
    """A customer comment the page has not replied to yet."""

    id: Annotated[uuid.UUID, msgspec.Meta(description="Wallguard's id of the tracked comment.")]
    connection_id: Annotated[uuid.UUID, msgspec.Meta(description="The connection.")]
    client_id: Annotated[uuid.UUID, msgspec.Meta(description="The client.")]
    comment_id: Annotated[str, msgspec.Meta(description="The platform's comment id.")]
    post_id: Annotated[str | None, msgspec.Meta(description="The platform's post or media id.")]
    commented_at: Annotated[dt.datetime, msgspec.Meta(description="When it was written.")]
    waiting_seconds: Annotated[
        float,
        msgspec.Meta(description="Service-hour seconds waited so far.", examples=[1800.0]),
    ]
    deadline_at: Annotated[
        dt.datetime | None,
        msgspec.Meta(
            description="The last instant a first reply keeps the promise (null: none promised,"
            " or not yet worked out, which takes seconds)."
        ),
    ]
    time_left_seconds: Annotated[
        float | None,
        msgspec.Meta(
            description="Service-hour seconds left before the promise breaks; negative once"
            " broken (how far past it); null without a deadline.",
            examples=[1200.0, -300.0],
        ),
    ]
    overdue: Annotated[bool, msgspec.Meta(description="The promise is broken.")]


class UnansweredPage(msgspec.Struct, kw_only=True):
    """Oldest first."""

    items: list[UnansweredComment]
    next_cursor: Annotated[
        str | None, msgspec.Meta(description="Pass back as `cursor` for the next page.")
    ]
