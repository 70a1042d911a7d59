"""Cursor pagination shared by every list endpoint.

Rows are listed newest first by their UUIDv7 id (which sorts by creation time), so a cursor is
just the last id seen, wrapped so clients treat it as opaque and a tampered one is a clear 400.

A change feed (``updated_since``) lists oldest change first by ``(updated_at, id)``: the pair is
unique, so the cursor is stable even when many rows share a timestamp, and a row changed again
while a client pages moves behind its cursor and is listed again (a client keeps a copy by
upserting what it reads).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy import Select, tuple_

from service.errors import InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
Limit = Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)]

_VERSION = "v1:"
T = TypeVar("T")


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode((_VERSION + last_id.hex).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        if not raw.startswith(_VERSION):
            raise ValueError("version")
        return uuid.UUID(hex=raw[len(_VERSION) :])
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(
            "The cursor is not one this API issued; start again without it."
        ) from None


def paginate(stmt: Select[Any], id_column: Any, cursor: str | None, limit: int) -> Select[Any]:
    """Apply keyset pagination; fetch one extra row to know whether there is a next page."""
    if cursor:
        stmt = stmt.where(id_column < decode_cursor(cursor))
    return stmt.order_by(id_column.desc()).limit(limit + 1)


def page_of(rows: Sequence[T], limit: int, id_of: Any) -> tuple[list[T], str | None]:
    items = list(rows[:limit])
    next_cursor = encode_cursor(id_of(items[-1])) if len(rows) > limit and items else None
    return items, next_cursor


_FEED_VERSION = "u1:"


def encode_feed_cursor(updated_at: dt.datetime, last_id: uuid.UUID) -> str:
    raw = f"{_FEED_VERSION}{updated_at.isoformat()},{last_id.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_feed_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        if not raw.startswith(_FEED_VERSION):
            raise ValueError("version")
        stamp, _, hex_id = raw[len(_FEED_VERSION) :].partition(",")
        updated_at = dt.datetime.fromisoformat(stamp)
        if updated_at.tzinfo is None:
            raise ValueError("naive")
        return updated_at, uuid.UUID(hex=hex_id)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(
            "The cursor is not one this API issued for an `updated_since` listing; start again "
            "without it."
        ) from None


def paginate_changes(
    stmt: Select[Any],
    updated_column: Any,
    id_column: Any,
    updated_since: dt.datetime,
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Rows changed at or after ``updated_since``, oldest change first."""
    stmt = stmt.where(updated_column >= updated_since)
    if cursor:
        stamp, last_id = decode_feed_cursor(cursor)
        stmt = stmt.where(tuple_(updated_column, id_column) > tuple_(stamp, last_id))
    return stmt.order_by(updated_column.asc(), id_column.asc()).limit(limit + 1)


def page_of_changes(rows: Sequence[T], limit: int, key_of: Any) -> tuple[list[T], str | None]:
    """``key_of(row)`` is its ``(updated_at, id)``."""
    items = list(rows[:limit])
    next_cursor = encode_feed_cursor(*key_of(items[-1])) if len(rows) > limit and items else None
    return items, next_cursor
