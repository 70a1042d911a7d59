"""A value found somewhere in a text, before overlaps are resolved."""

from __future__ import annotations

from dataclasses import dataclass

from .types import EntityType


@dataclass(slots=True)
class Candidate:
    """A reading of ``text[start:end]`` as ``type`` with confidence ``score``."""

    type: EntityType
    start: int
    end: int
    score: float
    normalized: str
