"""The HTTP shapes of POST /v1/detect (the engine itself knows nothing of HTTP)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.detection.types import EntityType
from service.locales import COUNTRY_PATTERN, Language


class DetectRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str
    lang: Language | None = None
    # ISO 3166-1 alpha-2: a hint for national phone numbers written without a country code.
    region: Annotated[str, msgspec.Meta(pattern=COUNTRY_PATTERN)] | None = None


class DetectedEntity(msgspec.Struct, kw_only=True):
    type: EntityType
    start: int
    end: int
    score: float
    masked: str


class DetectResponse(msgspec.Struct, kw_only=True):
    findings: list[DetectedEntity]
