from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from service.connections.models import ConnectionStatus, Platform
from service.inputs import NUL_FREE_URL
from service.locales import COUNTRY_PATTERN, Language

PageId = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z_]{1,64}$")]
Country = Annotated[str, msgspec.Meta(pattern=COUNTRY_PATTERN)]
ReturnUrl = Annotated[str, msgspec.Meta(max_length=2000, pattern=NUL_FREE_URL)]


class Connection(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    client_id: uuid.UUID
    platform: Platform
    external_id: str
    name: str
    status: ConnectionStatus
    status_reason: str | None
    tasks: list[str]
    country: str | None
    default_language: Language | None
    linked_page_id: str | None
    subscribed_at: dt.datetime | None
    last_event_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ConnectionList(msgspec.Struct, kw_only=True):
    items: list[Connection]
    next_cursor: str | None


class ConnectionUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Pause stops hiding and polling on this page; resume starts them again.
    status: Literal["active", "paused"] | msgspec.UnsetType = msgspec.UNSET
    country: Country | msgspec.UnsetType | None = msgspec.UNSET
    default_language: Language | msgspec.UnsetType | None = msgspec.UNSET


class OAuthStart(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    client_id: uuid.UUID
    # Connect only these pages (all the user's pages when omitted).
    page_ids: Annotated[list[PageId], msgspec.Meta(min_length=1, max_length=500)] | None = None
    # Where the user's browser is sent after the callback (the agency's dashboard).
    redirect_to: ReturnUrl | None = None


class OAuthStarted(msgspec.Struct, kw_only=True):
    authorization_url: str
    expires_at: dt.datetime


class OAuthCompleted(msgspec.Struct, kw_only=True):
    connections: list[Connection]
