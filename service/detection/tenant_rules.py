"""Per-tenant extensions: an allowlist of the company's own public data, and custom patterns.

Custom patterns come from tenants, so they run on RE2: matching time is linear in the text
length whatever the pattern, and patterns RE2 cannot guarantee that for (back-references,
look-around) are rejected when the rules are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
import re2

from .types import EntityType, PatternError

#: Patterns longer than this are refused; customer-number formats are short.
MAX_PATTERN_CHARS = 1_000
_RE2_MAX_MEM = 8 << 20


class CustomPattern(msgspec.Struct, frozen=True):
    """A tenant's own value format, e.g. ``AC-\\d{6}`` for its customer numbers."""

    name: str
    pattern: str
    type: EntityType = EntityType.CUSTOMER_NUMBER
    score: float = 0.9


class CompiledPattern(NamedTuple):
    """A :class:`CustomPattern` with its compiled RE2 program."""

    spec: CustomPattern
    regex: Any  # re2._Regexp: google-re2 ships no type information


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _RE2_MAX_MEM
    return options


def compile_pattern(spec: CustomPattern) -> CompiledPattern:
    """Compile one custom pattern with RE2, or raise :class:`PatternError` saying why not."""
    if not spec.pattern:
        raise PatternError(f"custom pattern {spec.name!r} is empty")
    if len(spec.pattern) > MAX_PATTERN_CHARS:
        raise PatternError(
            f"custom pattern {spec.name!r} is longer than {MAX_PATTERN_CHARS} characters"
        )
    if not 0.0 <= spec.score <= 1.0:
        raise PatternError(f"custom pattern {spec.name!r}: score must be within [0, 1]")
    try:
        regex = re2.compile(spec.pattern, options=_re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"custom pattern {spec.name!r} is not valid RE2 syntax: {reason}"
        ) from None
    if regex.search("") is not None:
        raise PatternError(f"custom pattern {spec.name!r} matches the empty string")
    return CompiledPattern(spec=spec, regex=regex)


def allowlist_key(value: str) -> str:
    """How an allowlisted value and a found value are compared.

    Values with several digits compare on their digits ("+45 70 10 20 30" is "4570102030"),
    other values on their case-folded words ("Vesterbrogade 1").
    """
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 5:
        return digits
    return " ".join(value.casefold().replace(",", " ").split())


class TenantRules:
    """A tenant's allowlist and custom patterns, compiled once.

    ``allowlist`` holds the company's own published values (hotline, shop addresses):
    never reported as personal data.  ``custom_patterns`` add the company's own formats.
    Raises :class:`PatternError` when a pattern cannot be compiled by RE2.
    """

    __slots__ = ("_allow_digits", "_allow_text", "allowlist", "compiled", "custom_patterns")

    def __init__(
        self,
        allowlist: Sequence[str] = (),
        custom_patterns: Sequence[CustomPattern] = (),
    ) -> None:
        self.allowlist = tuple(allowlist)
        self.custom_patterns = tuple(custom_patterns)
        keys = [allowlist_key(value) for value in self.allowlist if value.strip()]
        self._allow_digits = tuple(key for key in keys if key.isdigit())
        self._allow_text = tuple(key for key in keys if not key.isdigit())
        self.compiled = tuple(compile_pattern(spec) for spec in self.custom_patterns)

    def is_allowed(self, raw: str) -> bool:
        """Whether the value as written is one of the company's own public values."""
        key = allowlist_key(raw)
        if key.isdigit():
            # "+45 70 10 20 30" allows "70 10 20 30" and "004570102030" too (a country code
            # more or less); shorter values must match exactly.
            return any(
                key == allowed
                or (
                    min(len(key), len(allowed)) >= 8
                    and (key.endswith(allowed) or allowed.endswith(key))
                )
                for allowed in self._allow_digits
            )
        # "Vesterbrogade 1" allows "Vesterbrogade 1, 1620 København V", not "Vesterbrogade 12".
        return any(key == allowed or key.startswith(allowed + " ") for allowed in self._allow_text)
