"""Wallguard's detection engine: finds personal data in a comment.

Pure: text in, findings out; no I/O, no database.  Build a :class:`Detector` once (with a
tenant's :class:`TenantRules`) and call :meth:`Detector.detect` for each text.
"""

from .engine import REPORT_THRESHOLD, Detector, Span
from .hashing import fingerprint
from .language import guess_language
from .tenant_rules import CustomPattern, TenantRules
from .types import (
    MAX_TEXT_CHARS,
    DetectionError,
    EntityType,
    Finding,
    InvalidTextError,
    PatternError,
    TextTooLongError,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "REPORT_THRESHOLD",
    "CustomPattern",
    "DetectionError",
    "Detector",
    "EntityType",
    "Finding",
    "InvalidTextError",
    "PatternError",
    "Span",
    "TenantRules",
    "TextTooLongError",
    "fingerprint",
    "guess_language",
]
