"""Cursor pagination shared by every list endpoint.

Rows are listed newest first by their UUIDv7 id (which sorts by creation time), so a cursor is
just the last id seen, wrapped so clients treat it as opaque and a tampered one is a clear 400.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy import Select

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
