"""Which connections a delivery goes to, remembered for a moment by the process that answers.

Every webhook delivery names pages, not tenants, so answering one starts with a cross-tenant
lookup (a system unit of work: a transaction, a role switch and a query). A busy page sends
hundreds of deliveries a second and its answer is the same every time, so the API process keeps
the answer for ``ttl`` seconds. Only positive answers are kept: a page nobody had connected is
routed by the first delivery after its connection. ``accept_delivery`` checks each remembered
connection in the tenant's own transaction (one indexed read instead of a cross-tenant unit of
work), so a connection revoked or deleted meanwhile gets nothing. What the memory can miss: a
second tenant connecting a page the process already routes to another tenant gets that page's
deliveries only after ``ttl`` seconds (at once in the process that completed the OAuth); the
poll of recent posts (every 30 s) finds what arrived in between.

The same memory spares the ``connections`` row its ``last_event_at`` update on every delivery:
each process writes it at most once per ``touch_every`` (the row lock of a busy page would
otherwise queue every delivery behind the last).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.connections.models import ConnectionStatus, Platform
from service.connections.repository import ConnectionRepository
from service.db import Database

# How long a page's connections are trusted without asking Postgres again.
ROUTE_TTL_SECONDS = 2.0
# How often one process writes a connection's ``last_event_at``.
TOUCH_EVERY_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Route:
    tenant_id: TenantId
    connection_id: uuid.UUID


class DeliveryRouter:
    """Page -> connections watching it (not revoked), kept for ``ttl`` seconds per process."""

    def __init__(
        self, ttl: float = ROUTE_TTL_SECONDS, touch_every: float = TOUCH_EVERY_SECONDS
    ) -> None:
        self.ttl = ttl
        self.touch_every = touch_every
        self._routes: dict[tuple[Platform, str], tuple[float, tuple[Route, ...]]] = {}
        self._touched: dict[uuid.UUID, float] = {}

    async def route(
        self, db: Database, platform: Platform, page_ids: Sequence[str]
    ) -> dict[str, tuple[Route, ...]]:
        """The connections of each page that has any; pages nobody connected are left out."""
        now = time.monotonic()
        found: dict[str, tuple[Route, ...]] = {}
        missing: list[str] = []
        for page_id in page_ids:
            kept = self._routes.get((platform, page_id))
            if kept is not None and kept[0] > now:
                found[page_id] = kept[1]
            else:
                missing.append(page_id)
        if not missing:
            return found
        async with db.system_unit_of_work() as uow:
            connections = await ConnectionRepository(uow.session).route(platform, missing)
        fresh: dict[str, list[Route]] = {}
        for c in connections:
            if c.status is not ConnectionStatus.REVOKED:
                fresh.setdefault(c.external_id, []).append(Route(system_tenant(c.tenant_id), c.id))
        expires = now + self.ttl
        for page_id, routes in fresh.items():
            found[page_id] = tuple(routes)
            self._routes[platform, page_id] = (expires, found[page_id])
        if len(self._routes) > 10_000:  # many pages, each seen once: keep the memory bounded
            self._routes = {k: v for k, v in self._routes.items() if v[0] > now}
        return found

    def forget(self) -> None:
        """Route every page afresh (a connection was revoked, deleted or could not be used)."""
        self._routes.clear()

    def due_touch(self, connection_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``connection_ids`` whose ``last_event_at`` this process should write now;
        they count as written."""
        now = time.monotonic()
        due = {c for c in connection_ids if self._touched.get(c, 0.0) + self.touch_every <= now}
        for c in due:
            self._touched[c] = now
        if len(self._touched) > 10_000:
            self._touched = {c: t for c, t in self._touched.items() if t + self.touch_every > now}
        return due
