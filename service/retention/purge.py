"""The retention purge: remove what is older than its period, kind by kind, in bounded batches.

Each batch is one short transaction in the tenant's unit of work (row-level security applies):
select at most ``batch`` rows by an index on (tenant_id, time), lock them ``SKIP LOCKED`` (a
row the pipeline holds is left for the next run instead of waited for), delete them, commit. No
statement touches more than ``batch`` rows and no lock is held beyond one batch, so another
tenant's requests and this tenant's live traffic go on meanwhile (bench/retention). The purge
keeps no state of its own: what is left is whatever still matches, so after a crash the next run
simply continues.

Kinds are pluggable (``PurgeKind``): a domain that stores something with a period registers one
(``register_kind``). The outbound webhooks' history (events, deliveries, attempts) is
``WebhookDeliveries``, against that domain's tables.

A purge that removed anything records one ``retention.purged`` audit event with the counts per
kind, in the tenant's chain.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

import msgspec
import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.db import Database, utcnow
from service.retention.schemas import RetentionPeriods
from service.retention.service import ResolvedRetention, resolve
from service.tenancy.models import Tenant

log = structlog.get_logger(__name__)

ACTOR = "system:retention"
DEFAULT_BATCH = 1000

Clock = Callable[[], dt.datetime]


class ClientScope(msgspec.Struct, frozen=True, kw_only=True):
    """Which clients' records a batch may touch: one client (its override applies) or every
    client but those that override the period (the tenant's period applies)."""

    only: uuid.UUID | None = None
    exclude: tuple[uuid.UUID, ...] = ()


class PurgeKind(Protocol):
    @property
    def name(self) -> str:
        """The key in the counts and the audit event, e.g. "findings"."""
        ...

    @property
    def period(self) -> str | None:
        """The RetentionPeriods field that sets its period; None: not time-bound (at once)."""
        ...

    @property
    def per_client(self) -> bool:
        """Whether a client's override applies (the audit trail is the tenant's alone)."""
        ...

    async def purge_batch(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        cutoff: dt.datetime,
        scope: ClientScope,
        limit: int,
    ) -> int:
        """Remove at most ``limit`` records older than ``cutoff``; return how many."""
        ...


def _client_filter(scope: ClientScope, column: str, via_connection: bool) -> str:
    """SQL restricting a batch to ``scope``; ``column`` is the client or the connection id."""
    if scope.only is not None:
        op = "= :only"
    elif scope.exclude:
        op = "<> ALL(:exclude)"
    else:
        return ""
    if via_connection:
        # Only class-level constants are interpolated here; values are bound parameters.
        return (
            f" AND {column} IN (SELECT c.id FROM connections c "  # noqa: S608
            f"WHERE c.tenant_id = :tenant AND c.client_id {op})"
        )
    return f" AND {column} {op}"


def _params(
    tenant_id: TenantId, cutoff: dt.datetime, scope: ClientScope, limit: int
) -> dict[str, object]:
    params: dict[str, object] = {"tenant": tenant_id, "cutoff": cutoff, "limit": limit}
    if scope.only is not None:
        params["only"] = scope.only
    elif scope.exclude:
        params["exclude"] = list(scope.exclude)
    return params


class _DeleteOlder:
    """DELETE a batch of rows selected by (tenant_id, time column) and a status condition."""

    name: str
    period: str | None
    per_client: bool = True
    table: ClassVar[str]
    time_column: ClassVar[str]
    condition: ClassVar[str] = ""
    client_column: ClassVar[str] = "client_id"
    via_connection: ClassVar[bool] = False

    def statement(self, scope: ClientScope) -> str:
        where = _client_filter(scope, self.client_column, self.via_connection)
        # The batch is chosen once (MATERIALIZED): as `IN (SELECT ... LIMIT)` the planner may
        # run the subquery again per row (e.g. once another index on the table makes that
        # look cheap), and then deletes more than `limit` rows.
        return (
            f"WITH doomed AS MATERIALIZED (SELECT tenant_id, id FROM {self.table} "  # noqa: S608
            f"WHERE tenant_id = :tenant AND {self.time_column} < :cutoff{self.condition}{where} "
            f"LIMIT :limit FOR UPDATE SKIP LOCKED) DELETE FROM {self.table} t USING doomed "
            "WHERE t.tenant_id = doomed.tenant_id AND t.id = doomed.id RETURNING t.id"
        )

    async def purge_batch(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        cutoff: dt.datetime,
        scope: ClientScope,
        limit: int,
    ) -> int:
        result = await session.execute(
            text(self.statement(scope)), _params(tenant_id, cutoff, scope, limit)
        )
        ids = [row[0] for row in result.all()]
        if ids:
            await self.after_delete(session, tenant_id, ids)
        return len(ids)

    async def after_delete(
        self, session: AsyncSession, tenant_id: TenantId, ids: list[Any]
    ) -> None:
        """What goes with the deleted rows (none by default)."""


class Findings(_DeleteOlder):
    name = "findings"
    period = "findings_days"
    table = "findings"
    time_column = "received_at"

    async def after_delete(
        self, session: AsyncSession, tenant_id: TenantId, ids: list[Any]
    ) -> None:
        # Their finished moderation actions go with them (a pending one still has to run).
        await session.execute(
            text(
                "DELETE FROM moderation_actions WHERE tenant_id = :tenant "
                "AND finding_id = ANY(:ids) AND status <> 'pending'"
            ),
            {"tenant": tenant_id, "ids": ids},
        )


class ModerationActions(_DeleteOlder):
    """Finished actions without a finding (on the page's own comments) age like findings."""

    name = "moderation_actions"
    period = "findings_days"
    table = "moderation_actions"
    time_column = "updated_at"
    condition = " AND status <> 'pending'"
    client_column = "connection_id"
    via_connection = True


class InboxEvents(_DeleteOlder):
    name = "inbox_events"
    period = "inbox_events_days"
    table = "inbox_events"
    time_column = "received_at"
    # Pending events are work still to do: reconcile sends them again, they are not history.
    condition = " AND status <> 'pending'"
    client_column = "connection_id"
    via_connection = True


class InboxPayloads:
    """Processed events' encrypted payloads (the comment text), cleared whatever their age. The
    pipeline clears them when it finishes an event; this catches anything it left."""

    name = "inbox_payloads_cleared"
    period: str | None = None
    per_client = False

    async def purge_batch(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        cutoff: dt.datetime,
        scope: ClientScope,
        limit: int,
    ) -> int:
        result = await session.execute(
            text(
                "UPDATE inbox_events SET payload_ciphertext = NULL WHERE (tenant_id, id) IN ("
                "SELECT tenant_id, id FROM inbox_events WHERE tenant_id = :tenant "
                "AND status <> 'pending' AND payload_ciphertext IS NOT NULL "
                "LIMIT :limit FOR UPDATE SKIP LOCKED) RETURNING id"
            ),
            {"tenant": tenant_id, "limit": limit},
        )
        return len(result.all())


class Scans(_DeleteOlder):
    name = "scans"
    period = "scans_days"
    table = "scans"
    time_column = "finished_at"
    condition = " AND status IN ('completed', 'cancelled', 'failed')"
    client_column = "connection_id"
    via_connection = True


class TrackedComments(_DeleteOlder):
    """Response-time rows (platform comment ids and times, no text or author): they are
    findings-grade history of a client's page, so they age with the findings period rather
    than a kind of their own. A customer comment still unanswered goes too once it is that old
    (it then leaves /v1/unanswered and the reports)."""

    name = "tracked_comments"
    period = "findings_days"
    table = "tracked_comments"
    time_column = "commented_at"


class Storms(_DeleteOlder):
    """Ended storms, by when they started, with the findings period; a storm in progress is
    live state of the storm watcher and stays whatever its age."""

    name = "storms"
    period = "findings_days"
    table = "storms"
    time_column = "started_at"
    condition = " AND status = 'ended'"


class AuditEvents:
    """The oldest events of the tenant's chain, through the database function that alone may
    delete them and moves the chain's anchor with them (never anything younger than 30 days)."""

    name = "audit_events"
    period: str | None = "audit_events_days"
    per_client = False

    async def purge_batch(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        cutoff: dt.datetime,
        scope: ClientScope,
        limit: int,
    ) -> int:
        removed = await session.scalar(
            text("SELECT wallguard_purge_audit_events(:tenant, :cutoff, :limit)"),
            {"tenant": tenant_id, "cutoff": cutoff, "limit": limit},
        )
        return int(removed or 0)


class WebhookDeliveries:
    """Outbound webhooks (service/webhooks/models.py): finished deliveries (``succeeded``, or
    ``failed`` once the retries ran out) with their attempts (the foreign key cascades), then
    the events no delivery refers to any more, older than the period. A ``pending`` delivery is
    work (first try, retrying after failures, or a replay) and stays whatever its age; so does
    its event. A client's override applies to its events (``webhook_events.client_id``); events
    of no client (``webhook.test`` to a tenant-wide endpoint, ``erasure.*``) take the tenant's
    period. This is the one place webhook history is removed."""

    name = "webhook_deliveries"
    period: str | None = "webhook_deliveries_days"
    per_client = True

    @staticmethod
    def _events_of(scope: ClientScope, alias: str) -> str:
        """SQL restricting events (``alias``) to ``scope``; a null client is the tenant's."""
        if scope.only is not None:
            return f" AND {alias}.client_id = :only"
        if scope.exclude:
            return f" AND ({alias}.client_id IS NULL OR {alias}.client_id <> ALL(:exclude))"
        return ""

    async def purge_batch(
        self,
        session: AsyncSession,
        tenant_id: TenantId,
        cutoff: dt.datetime,
        scope: ClientScope,
        limit: int,
    ) -> int:
        params = _params(tenant_id, cutoff, scope, limit)
        events_in_scope = self._events_of(scope, "e")
        deliveries = (
            f" AND EXISTS (SELECT 1 FROM webhook_events e WHERE e.tenant_id = d.tenant_id "  # noqa: S608
            f"AND e.id = d.event_id{events_in_scope})"
            if events_in_scope
            else ""
        )
        # Only the class's own SQL fragments are interpolated; values are bound parameters.
        finished = await session.execute(
            text(
                "DELETE FROM webhook_deliveries WHERE (tenant_id, id) IN ("  # noqa: S608
                "SELECT d.tenant_id, d.id FROM webhook_deliveries d WHERE d.tenant_id = :tenant "
                f"AND d.created_at < :cutoff AND d.status <> 'pending'{deliveries} "
                "LIMIT :limit FOR UPDATE SKIP LOCKED) RETURNING id"
            ),
            params,
        )
        orphaned = await session.execute(
            text(
                "DELETE FROM webhook_events WHERE (tenant_id, id) IN ("  # noqa: S608
                "SELECT e.tenant_id, e.id FROM webhook_events e WHERE e.tenant_id = :tenant "
                f"AND e.created_at < :cutoff{events_in_scope} AND NOT EXISTS ("
                "SELECT 1 FROM webhook_deliveries d "
                "WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id) "
                "LIMIT :limit FOR UPDATE SKIP LOCKED) RETURNING id"
            ),
            params,
        )
        return len(finished.all()) + len(orphaned.all())


KINDS: list[PurgeKind] = [
    InboxPayloads(),
    InboxEvents(),
    Findings(),
    ModerationActions(),
    Scans(),
    TrackedComments(),
    Storms(),
    WebhookDeliveries(),
    AuditEvents(),
]


def register_kind(kind: PurgeKind) -> None:
    """Add (or replace, by name) a kind of record the purge handles."""
    for index, existing in enumerate(KINDS):
        if existing.name == kind.name:
            KINDS[index] = kind
            return
    KINDS.insert(len(KINDS) - 1, kind)  # the audit trail last: its event records the others


class PurgeResult(msgspec.Struct, kw_only=True):
    counts: dict[str, int]
    # False when the time budget ran out first; the next run continues where this one stopped.
    complete: bool
    batches: int
    # The longest single batch transaction (the longest any row lock was held), in seconds.
    longest_batch_seconds: float


def _plan(
    kind: PurgeKind, resolved: ResolvedRetention, now: dt.datetime
) -> list[tuple[ClientScope, dt.datetime]]:
    """(scope, cutoff) pairs: each overriding client with its own period, then the rest."""
    if kind.period is None:
        return [(ClientScope(), now)]

    def cutoff(periods: RetentionPeriods) -> dt.datetime:
        days: int = getattr(periods, kind.period or "")
        return now - dt.timedelta(days=days)

    if not kind.per_client:
        return [(ClientScope(), cutoff(resolved.tenant))]
    plan = [(ClientScope(only=cid), cutoff(p)) for cid, p in sorted(resolved.clients.items())]
    plan.append((ClientScope(exclude=tuple(sorted(resolved.clients))), cutoff(resolved.tenant)))
    return plan


async def tenants_to_purge(db: Database) -> list[TenantId]:
    """Every tenant but those being deleted (their deletion removes everything anyway)."""
    async with db.system_unit_of_work() as uow:
        ids = await uow.session.scalars(select(Tenant.id).where(Tenant.deleting_at.is_(None)))
        return [system_tenant(tenant_id) for tenant_id in ids]


async def purge_tenant(
    db: Database,
    tenant_id: TenantId,
    *,
    now: Clock = utcnow,
    batch: int = DEFAULT_BATCH,
    budget_seconds: float | None = None,
    kinds: Sequence[PurgeKind] | None = None,
) -> PurgeResult:
    """Purge one tenant's expired records; ``now`` is injectable (tests move the clock)."""
    started = time.monotonic()
    at = now()
    async with db.unit_of_work(tenant_id) as uow:
        resolved = await resolve(uow, tenant_id)
    counts: dict[str, int] = {}
    batches = 0
    longest = 0.0
    complete = True
    for kind in kinds if kinds is not None else KINDS:
        for scope, cutoff in _plan(kind, resolved, at):
            while True:
                if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                    complete = False
                    break
                begun = time.monotonic()
                async with db.unit_of_work(tenant_id) as uow:
                    removed = await kind.purge_batch(uow.session, tenant_id, cutoff, scope, batch)
                longest = max(longest, time.monotonic() - begun)
                batches += 1
                if removed:
                    counts[kind.name] = counts.get(kind.name, 0) + removed
                if removed < batch:
                    break
            if not complete:
                break
        if not complete:
            break
    if counts:
        async with db.unit_of_work(tenant_id) as uow:
            record(
                uow,
                tenant_id,
                actor=ACTOR,
                action="retention.purged",
                subject_type="tenant",
                subject_id=tenant_id,
                data={"counts": counts, "complete": complete, "as_of": at.isoformat()},
            )
        log.info("retention_purged", tenant_id=str(tenant_id), complete=complete, **counts)
    return PurgeResult(
        counts=counts, complete=complete, batches=batches, longest_batch_seconds=longest
    )
