from __future__ import annotations

from typing import Any

import msgspec


class Change(msgspec.Struct):
    field: str
    value: dict[str, Any] = msgspec.field(default_factory=dict)


class Entry(msgspec.Struct):
    id: str
    time: int | None = None
    changes: list[Change] = msgspec.field(default_factory=list)


class Delivery(msgspec.Struct):
    """One webhook delivery as Meta sends it: entries (pages) with their changes."""

    object: str
    entry: list[Entry] = msgspec.field(default_factory=list)


class Accepted(msgspec.Struct, kw_only=True):
    changes: int
    stored: int
    duplicates: int
    unrouted: int
    # Changes about an erased author or comment: dropped at the door (service.erasure).
    erased: int = 0
