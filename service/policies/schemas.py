from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from service.detection import EntityType
from service.inputs import text
from service.locales import Language
from service.policies.models import PolicyMode

Score = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Thresholds = Annotated[
    dict[EntityType, Score],
    msgspec.Meta(
        description="The types that act and each one's minimum score; types left out never act.",
        examples=[{"PHONE_NUMBER": 0.6, "DK_CPR": 0.5}],
    ),
]
AllowedValue = Annotated[str, text(min_length=1, max_length=300)]
Allowlist = Annotated[
    list[AllowedValue],
    msgspec.Meta(
        max_length=500,
        description="The company's own public numbers and addresses: never treated as personal.",
    ),
]
TemplateText = Annotated[str, text(min_length=1, max_length=1000, blank=False)]
ReplyTemplates = Annotated[
    dict[Language, TemplateText],
    msgspec.Meta(
        description=(
            "Reply texts per language; placeholders {private_channel_url} and {client_name}. "
            "Languages left out use Wallguard's default text."
        )
    ),
]


class CustomPattern(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A company's own value format (RE2 syntax), e.g. customer numbers ``KN-\\d{6}``."""

    name: Annotated[str, text(min_length=1, max_length=100)]
    pattern: Annotated[str, text(min_length=1, max_length=1000)]
    type: EntityType = EntityType.CUSTOMER_NUMBER
    score: Score = 0.9


CustomPatterns = Annotated[list[CustomPattern], msgspec.Meta(max_length=50)]
Source = Literal["default", "client", "connection"]


class Policy(msgspec.Struct, kw_only=True):
    """A client's policy; ``stored`` is false while it is Wallguard's default."""

    client_id: uuid.UUID
    mode: PolicyMode
    thresholds: dict[str, float]
    allowlist: list[str]
    custom_patterns: list[CustomPattern]
    reply_templates: dict[str, str]
    default_language: Language | None
    scan_page_replies: bool
    stored: bool
    updated_at: dt.datetime | None


class PolicyUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Replaces the client's policy; a field left out (or null) takes Wallguard's default."""

    mode: PolicyMode | msgspec.UnsetType | None = msgspec.UNSET
    thresholds: Thresholds | msgspec.UnsetType | None = msgspec.UNSET
    allowlist: Allowlist | msgspec.UnsetType | None = msgspec.UNSET
    custom_patterns: CustomPatterns | msgspec.UnsetType | None = msgspec.UNSET
    reply_templates: ReplyTemplates | msgspec.UnsetType | None = msgspec.UNSET
    default_language: Language | msgspec.UnsetType | None = msgspec.UNSET
    scan_page_replies: bool | msgspec.UnsetType | None = msgspec.UNSET


class ConnectionPolicy(msgspec.Struct, kw_only=True):
    """A connection's override of its client's policy: null fields inherit."""

    connection_id: uuid.UUID
    client_id: uuid.UUID
    mode: PolicyMode | None
    thresholds: dict[str, float] | None
    allowlist: list[str] | None
    custom_patterns: list[CustomPattern] | None
    reply_templates: dict[str, str] | None
    default_language: Language | None
    scan_page_replies: bool | None
    stored: bool
    updated_at: dt.datetime | None


class ConnectionPolicyUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Replaces the connection's override; a field left out (or null) inherits."""

    mode: PolicyMode | msgspec.UnsetType | None = msgspec.UNSET
    thresholds: Thresholds | msgspec.UnsetType | None = msgspec.UNSET
    allowlist: Allowlist | msgspec.UnsetType | None = msgspec.UNSET
    custom_patterns: CustomPatterns | msgspec.UnsetType | None = msgspec.UNSET
    reply_templates: ReplyTemplates | msgspec.UnsetType | None = msgspec.UNSET
    default_language: Language | msgspec.UnsetType | None = msgspec.UNSET
    scan_page_replies: bool | msgspec.UnsetType | None = msgspec.UNSET


class EffectivePolicy(msgspec.Struct, kw_only=True):
    """What applies on a connection: its override over its client's policy over the defaults.
    ``sources`` names where each field came from. Reply templates merge per language."""

    connection_id: uuid.UUID
    client_id: uuid.UUID
    mode: PolicyMode
    thresholds: dict[str, float]
    allowlist: list[str]
    custom_patterns: list[CustomPattern]
    reply_templates: dict[str, str]
    default_language: Language | None
    scan_page_replies: bool
    sources: dict[str, Source]
