from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from service.storms.models import StormStatus

PerMinute = Annotated[
    float, msgspec.Meta(ge=0.0, description="Customer comments per minute.", examples=[42.4])
]


class StormPost(msgspec.Struct, kw_only=True):
    """A post drawing the storm's comments."""

    post_id: Annotated[str, msgspec.Meta(description="The platform's post or media id.")]
    comments: Annotated[
        int, msgspec.Meta(description="Its customer comments since the storm started.")
    ]


class Storm(msgspec.Struct, kw_only=True):
    """A sustained excess of customer comments over the page's own baseline for that time of
    the week (README, "Storms")."""

    id: Annotated[uuid.UUID, msgspec.Meta(description="The storm's id.")]
    connection_id: Annotated[uuid.UUID, msgspec.Meta(description="The page's connection.")]
    client_id: Annotated[uuid.UUID, msgspec.Meta(description="The connection's client.")]
    status: Annotated[
        StormStatus, msgspec.Meta(description="active, or ended.", examples=["active"])
    ]
    started_at: Annotated[
        dt.datetime, msgspec.Meta(description="The first comment of the window that set it off.")
    ]
    detected_at: Annotated[dt.datetime, msgspec.Meta(description="When Wallguard noticed.")]
    ended_at: Annotated[
        dt.datetime | None,
        msgspec.Meta(description="The last time the rate was still elevated, once it ended."),
    ]
    baseline_per_minute: PerMinute
    rate_per_minute: PerMinute
    peak_per_minute: PerMinute
    comments: Annotated[
        int, msgspec.Meta(description="Customer comments since it started.", examples=[3000])
    ]
    posts: Annotated[
        list[StormPost], msgspec.Meta(description="The posts drawing the comments, most first.")
    ]


class StormPage(msgspec.Struct, kw_only=True):
    """Newest first."""

    items: list[Storm]
    next_cursor: Annotated[
        str | None, msgspec.Meta(description="Pass back as `cursor` for the next page.")
    ]
