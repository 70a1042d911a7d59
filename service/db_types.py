"""Column helpers shared by models."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def str_enum(cls: type[enum.StrEnum], name: str) -> Any:
    """A Postgres enum storing the members' values (not their Python names)."""
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])
