"""Small helpers between ORM rows and msgspec schemas."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)


def to_schema(row: Any, schema: type[S]) -> S:
    return msgspec.convert(row, schema, from_attributes=True)


def changes(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually set (absent fields are UNSET, explicit nulls are kept)."""
    return {
        name: value
        for name in update.__struct_fields__
        if (value := getattr(update, name)) is not msgspec.UNSET
    }


def apply_changes(row: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)
