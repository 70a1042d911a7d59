from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from service.inputs import NUL_FREE_URL, text
from service.locales import COUNTRY_PATTERN, Language
from service.tenancy.models import TenantKind

Name = Annotated[str, text(min_length=1, max_length=200, blank=False)]
ExternalRef = Annotated[str, text(min_length=1, max_length=200)]
Country = Annotated[str, msgspec.Meta(pattern=COUNTRY_PATTERN, examples=["DK"])]
HttpsUrl = Annotated[str, msgspec.Meta(max_length=2000, pattern=NUL_FREE_URL)]
RetentionDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]


class Tenant(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: TenantKind
    # How long findings are kept (also `findings_days` of /v1/tenant/retention).
    retention_days: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TenantUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    retention_days: RetentionDays | msgspec.UnsetType = msgspec.UNSET


class Client(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    external_ref: str | None
    country: str | None
    default_language: Language | None
    private_channel_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ClientCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    external_ref: ExternalRef | None = None
    country: Country | None = None
    default_language: Language | None = None
    private_channel_url: HttpsUrl | None = None


class ClientUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    external_ref: ExternalRef | msgspec.UnsetType | None = msgspec.UNSET
    country: Country | msgspec.UnsetType | None = msgspec.UNSET
    default_language: Language | msgspec.UnsetType | None = msgspec.UNSET
    private_channel_url: HttpsUrl | msgspec.UnsetType | None = msgspec.UNSET


class ClientList(msgspec.Struct, kw_only=True):
    items: list[Client]
    next_cursor: str | None
