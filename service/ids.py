"""Identifiers: UUIDv7 everywhere, so primary keys sort by creation time (cheap cursor pagination
and index locality) without a separate sequence."""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    return uuid7()
