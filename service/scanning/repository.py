from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.connections.models import Connection, ConnectionStatus
from service.findings.models import Finding, FindingStatus
from service.moderation.models import ActionStatus, ModerationAction
from service.pagination import page_of, paginate
from service.scanning.models import Scan, ScanStatus

ACTIVE_STATUSES = (ScanStatus.PENDING, ScanStatus.RUNNING, ScanStatus.WAITING)


class ScanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: TenantId, scan_id: uuid.UUID) -> Scan | None:
        return await self.session.get(Scan, (tenant_id, scan_id))

    async def get_for_update(self, tenant_id: TenantId, scan_id: uuid.UUID) -> Scan | None:
        stmt = (
            select(Scan)
            .where(Scan.tenant_id == tenant_id, Scan.id == scan_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).one_or_none()

    async def active_for_connection(
        self, tenant_id: TenantId, connection_id: uuid.UUID
    ) -> Scan | None:
        stmt = (
            select(Scan)
            .where(
                Scan.tenant_id == tenant_id,
                Scan.connection_id == connection_id,
                Scan.status.in_(ACTIVE_STATUSES),
            )
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def list(
        self,
        tenant_id: TenantId,
        *,
        connection_id: uuid.UUID | None,
        client_id: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Scan], str | None]:
        stmt = select(Scan).where(Scan.tenant_id == tenant_id)
        if connection_id is not None:
            stmt = stmt.where(Scan.connection_id == connection_id)
        if client_id is not None:
            stmt = stmt.join(
                Connection,
                (Connection.tenant_id == Scan.tenant_id) & (Connection.id == Scan.connection_id),
            ).where(Connection.client_id == client_id)
        rows = (await self.session.scalars(paginate(stmt, Scan.id, cursor, limit))).all()
        return page_of(rows, limit, lambda s: s.id)

    async def count_hidden(self, tenant_id: TenantId, finding_ids: Sequence[uuid.UUID]) -> int:
        """How many of these findings are hidden on the platform now."""
        if not finding_ids:
            return 0
        stmt = select(func.count()).where(
            Finding.tenant_id == tenant_id,
            Finding.id.in_(list(finding_ids)),
            Finding.status == FindingStatus.HIDDEN,
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def count_scan_hidden(self, tenant_id: TenantId, scan_id: uuid.UUID) -> int:
        """Findings this scan recorded that are hidden now (read once, when the scan ends)."""
        stmt = select(func.count()).where(
            Finding.tenant_id == tenant_id,
            Finding.scan_id == scan_id,
            Finding.status == FindingStatus.HIDDEN,
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def settle_hidden(self, tenant_id: TenantId, scan: Scan) -> None:
        """Count into ``scan.hidden`` the scan's findings hidden now (hides that were not
        counted as they happened: a worker died first, or a rate limit deferred them)."""
        scan.hidden = max(scan.hidden, await self.count_scan_hidden(tenant_id, scan.id))

    async def pending_action_ids(
        self, tenant_id: TenantId, scan_id: uuid.UUID, limit: int = 10_000
    ) -> builtins.list[tuple[uuid.UUID, uuid.UUID]]:
        """(action id, finding id) of actions recorded for this scan's findings that were never
        performed (the worker died between a page's commit and its hides)."""
        stmt = (
            select(ModerationAction.id, Finding.id)
            .join(
                Finding,
                (Finding.tenant_id == ModerationAction.tenant_id)
                & (Finding.id == ModerationAction.finding_id),
            )
            .where(
                ModerationAction.tenant_id == tenant_id,
                ModerationAction.status == ActionStatus.PENDING,
                Finding.scan_id == scan_id,
            )
            .order_by(ModerationAction.id)
            .limit(limit)
        )
        return [(a, f) for a, f in (await self.session.execute(stmt)).all()]

    def add(self, scan: Scan) -> None:
        self.session.add(scan)

    # --- system scope (the reconcile cron; needs a system unit of work) ------------------------

    async def needing_a_job(
        self, *, stale_before: dt.datetime, limit: int = 500
    ) -> builtins.list[Scan]:
        """Active scans of every tenant that need a (new) job, locked for the caller.

        - pending or running with no sign of life since ``stale_before`` (a lost message, a
          killed worker, a Redis restart);
        - waiting out a rate limit whose deferred retry should have run before ``stale_before``;
        - waiting on their connection (re-authorisation, pause) that is active again.
        """
        last_sign = func.coalesce(Scan.heartbeat_at, Scan.updated_at)
        wait_until = Scan.checkpoint["wait_until"].as_float()
        stmt = (
            select(Scan)
            .join(
                Connection,
                (Connection.tenant_id == Scan.tenant_id) & (Connection.id == Scan.connection_id),
            )
            .where(
                or_(
                    Scan.status.in_((ScanStatus.PENDING, ScanStatus.RUNNING))
                    & (last_sign < stale_before),
                    (Scan.status == ScanStatus.WAITING)
                    & Scan.checkpoint.has_key("wait_until")
                    & (wait_until < stale_before.timestamp()),
                    (Scan.status == ScanStatus.WAITING)
                    & ~Scan.checkpoint.has_key("wait_until")
                    & (Connection.status == ConnectionStatus.ACTIVE),
                )
            )
            .order_by(Scan.id)
            .limit(limit)
            .with_for_update(of=Scan, skip_locked=True)
        )
        return list((await self.session.scalars(stmt)).all())
