"""A value found somewhere in a text, before overlaps are resolved."""

from __future__ import annotations

from typing import NamedTuple

from .types import EntityType


class Candidate(NamedTuple):
    """A reading of ``text[start:end]`` as ``type`` with confidence ``score``."""

    type: EntityType
    start: int
    end: int
    score: float
    normalized: str
