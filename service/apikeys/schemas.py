from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from service.auth.types import Scope
from service.inputs import text

Name = Annotated[str, text(min_length=1, max_length=200, blank=False)]
Scopes = Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=3)]


class ApiKey(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    # Shown so people can tell keys apart; not a secret and not enough to authenticate.
    prefix: str
    scopes: list[Scope]
    client_id: uuid.UUID | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_at: dt.datetime


class ApiKeyCreated(ApiKey, kw_only=True):
    # The full key. Returned once, at creation; Wallguard keeps only its hash.
    secret: str


class ApiKeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    scopes: Scopes
    client_id: uuid.UUID | None = None
    expires_at: dt.datetime | None = None


class ApiKeyList(msgspec.Struct, kw_only=True):
    items: list[ApiKey]
    next_cursor: str | None
