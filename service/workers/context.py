"""What every job gets in its arq context."""

from __future__ import annotations

from typing import Any, TypedDict

from service.db import Database
from service.queue import Queue
from service.settings import Settings


class WorkerContext(TypedDict):
    settings: Settings
    db: Database
    queue: Queue


def context_of(ctx: dict[str, Any]) -> WorkerContext:
    return WorkerContext(settings=ctx["settings"], db=ctx["db"], queue=ctx["queue"])
