"""Bounds on what the API accepts, shared by request schemas and query parameters.

Both bounds exist because the failure would otherwise come late, as a server error, after the
request was accepted:

- Text: PostgreSQL's text types cannot hold NUL (U+0000). Every string that is stored (names,
  references, allowlists, patterns, templates, filters compared with stored columns) carries
  ``text(...)``, so a NUL is refused at the edge with its field's path, and the OpenAPI document
  says so in the field's ``pattern``.
- Instants: ``0001-01-01T00:00:00Z`` is a valid timestamp, but one day before it overflows, and
  PostgreSQL turns it into ``-infinity``. Times given to the API lie in ``[EARLIEST, LATEST)``.

The patterns are linear to match (a lookahead over the string, then a plain prefix): the body
limit is a megabyte, and a pattern that backtracks quadratically would be a way to stall a
worker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from service.errors import BadRequest, FieldError, ValidationFailed
from service.locales import COUNTRY_HINT, COUNTRY_PATTERN

NUL_FREE = r"^[^\x00]*$"
NUL_FREE_NOT_BLANK = r"^(?=[^\x00]*$)\s*\S"
# http(s) URLs (the scheme in any case) without whitespace or NUL.
NUL_FREE_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00]+$"
PATTERN_MESSAGES: dict[str, str] = {
    COUNTRY_PATTERN: f"must be {COUNTRY_HINT}",
    NUL_FREE: "must not contain the NUL character (\\u0000)",
    NUL_FREE_NOT_BLANK: "must not be blank or contain the NUL character (\\u0000)",
    NUL_FREE_URL: "must be an http(s) URL without spaces or the NUL character (\\u0000)",
}


def text(
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    blank: bool = True,
    **meta: Any,
) -> msgspec.Meta:
    """The constraint of a stored string: no NUL, and with ``blank=False`` at least one
    character that is not whitespace."""
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=NUL_FREE if blank else NUL_FREE_NOT_BLANK,
        **meta,
    )


EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Far enough for a filter meaning "nothing yet" (2999 ...), far from the overflow at 9999.
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
_RANGE = f"between {EARLIEST:%Y-%m-%dT%H:%M:%SZ} and {LATEST:%Y-%m-%dT%H:%M:%SZ}"


def instant_problem(value: dt.datetime) -> str | None:
    """Why ``value`` is refused as a time given to the API, or None. A time without a zone is
    read as UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if EARLIEST <= aware < LATEST:
        return None
    return f"must lie {_RANGE}"


def instant(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """``value`` as an aware datetime (UTC when it came without a zone), or ValidationFailed
    naming ``field`` (``query.until``, ``$.since``) when it lies outside the sane range."""
    if value is None:
        return None
    problem = instant_problem(value)
    if problem is not None:
        # A parameter is a bad request (400), a body field a failed validation (422), as the
        # problem handler answers msgspec's own errors.
        error = BadRequest if field.startswith(("query.", "path.")) else ValidationFailed
        raise error(f"{field}: {problem}", errors=[FieldError(field=field, message=problem)])
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


_PATTERN_ERRORS = {
    f"Expected `str` matching regex {pattern!r}": message
    for pattern, message in PATTERN_MESSAGES.items()
}


def explain(message: str) -> str:
    """msgspec's message for a value that failed one of the patterns above, in words (a user
    should not have to read a regex to learn that a NUL is not allowed)."""
    return _PATTERN_ERRORS.get(message, message)
