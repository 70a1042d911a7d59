"""Starting, watching and cancelling backfill scans. The walk is service/scanning/walk.py and the
job that runs it through the pipeline service/pipeline/scans.py; services never commit (the unit
of work does, once)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection

from service import queue as jobs
from service.audit.service import record
from service.auth.types import Principal, TenantId
from service.connections.models import Connection
from service.connections.repository import ConnectionRepository
from service.db import UnitOfWork, utcnow
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.scanning import schemas
from service.scanning.models import Scan, ScanStatus
from service.scanning.repository import ACTIVE_STATUSES, ScanRepository
from service.webhooks.events import EventType, ScanEventData
from service.webhooks.service import api_url, emit


def scan_rate(scan: Scan, now: dt.datetime | None = None) -> float | None:
    """Comments per second since the scan first started, up to its end or its last heartbeat."""
    if scan.started_at is None:
        return None
    end = scan.finished_at or (scan.heartbeat_at if scan.status is not ScanStatus.RUNNING else None)
    end = end or now or utcnow()
    seconds = (end - scan.started_at).total_seconds()
    if seconds <= 0:
        return None
    return round(scan.comments_scanned / seconds, 1)


def to_scan_schema(scan: Scan) -> schemas.Scan:
    return schemas.Scan(
        id=scan.id,
        connection_id=scan.connection_id,
        status=scan.status,
        since=scan.since,
        until=scan.until,
        posts_scanned=scan.posts_scanned,
        comments_scanned=scan.comments_scanned,
        findings=scan.findings,
        hidden=scan.hidden,
        errors=scan.errors,
        rate=scan_rate(scan),
        last_error=scan.last_error,
        requested_by=scan.requested_by,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        heartbeat_at=scan.heartbeat_at,
        created_at=scan.created_at,
        updated_at=scan.updated_at,
    )


class ScanService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.scans = ScanRepository(uow.session)
        self.connections = ConnectionRepository(uow.session)

    async def _connection(
        self, principal: Principal, connection_id: uuid.UUID, *, lock: bool = False
    ) -> Connection:
        if lock:
            connection = await self.connections.get_for_update(principal.tenant_id, connection_id)
        else:
            connection = await self.connections.get(principal.tenant_id, connection_id)
        if connection is None or (
            principal.client_id is not None and connection.client_id != principal.client_id
        ):
            raise NotFound(f"Connection {connection_id} not found.")
        return connection

    async def load(self, principal: Principal, scan_id: uuid.UUID) -> Scan:
        scan = await self.scans.get(principal.tenant_id, scan_id)
        if scan is not None and principal.client_id is not None:
            connection = await self.connections.get(principal.tenant_id, scan.connection_id)
            if connection is None or connection.client_id != principal.client_id:
                scan = None
        if scan is None:
            raise NotFound(f"Scan {scan_id} not found.")
        return scan

    async def create(self, principal: Principal, data: schemas.ScanCreate) -> schemas.Scan:
        if data.since and data.until and data.since >= data.until:
            raise ValidationFailed(
                "`since` must be before `until`.",
                errors=[FieldError(field="$.until", message="must be after since")],
            )
        # The connection's row lock serialises concurrent requests for the same page, so the
        # one-active-scan rule holds without a unique index.
        connection = await self._connection(principal, data.connection_id, lock=True)
        active = await self.scans.active_for_connection(principal.tenant_id, connection.id)
        if active is not None:
            raise Conflict(
                f"Scan {active.id} is already {active.status.value} on this connection; "
                "cancel it or wait for it to finish."
            )
        scan = Scan(
            tenant_id=principal.tenant_id,
            connection_id=connection.id,
            status=ScanStatus.PENDING,
            since=data.since,
            until=data.until,
            checkpoint={},
            posts_scanned=0,
            comments_scanned=0,
            findings=0,
            hidden=0,
            errors=0,
            requested_by=principal.actor,
            heartbeat_at=utcnow(),
        )
        self.scans.add(scan)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="scan.created",
            subject_type="scan",
            subject_id=scan.id,
            data={"connection_id": str(connection.id)},
        )
        # Sent only after the commit: the job never looks for a row that is not there yet.
        self.uow.jobs.add(jobs.run_scan(principal.tenant_id, scan.id))
        return to_scan_schema(scan)

    async def get(self, principal: Principal, scan_id: uuid.UUID) -> schemas.Scan:
        return to_scan_schema(await self.load(principal, scan_id))

    async def list(
        self,
        principal: Principal,
        *,
        connection_id: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.ScanList:
        rows, next_cursor = await self.scans.list(
            principal.tenant_id,
            connection_id=connection_id,
            client_id=principal.client_id,
            cursor=cursor,
            limit=limit,
        )
        return schemas.ScanList(items=[to_scan_schema(s) for s in rows], next_cursor=next_cursor)

    async def cancel(self, principal: Principal, scan_id: uuid.UUID) -> schemas.Scan:
        await self.load(principal, scan_id)
        # Locked: the job reads the status under the same lock between pages.
        scan = await self.scans.get_for_update(principal.tenant_id, scan_id)
        if scan is None:
            raise NotFound(f"Scan {scan_id} not found.")
        if scan.status not in ACTIVE_STATUSES:
            raise Conflict(f"Scan {scan_id} is already {scan.status.value}.")
        scan.status = ScanStatus.CANCELLED
        scan.finished_at = utcnow()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="scan.cancelled",
            subject_type="scan",
            subject_id=scan.id,
        )
        await self.uow.session.flush()
        return to_scan_schema(scan)


async def count_late_hides(
    uow: UnitOfWork, tenant_id: TenantId, scan_ids: Collection[uuid.UUID]
) -> None:
    """Hides of a scan's findings that land after the scan ended (a rate limit deferred them)
    still count for it, so its counts add up. A scan still running counts them at its end;
    its row lock orders the two."""
    scans = ScanRepository(uow.session)
    for scan_id in sorted(scan_ids):
        scan = await scans.get_for_update(tenant_id, scan_id)
        if scan is not None and scan.status not in ACTIVE_STATUSES:
            await scans.settle_hidden(tenant_id, scan)


def scan_event(uow: UnitOfWork, tenant_id: TenantId, scan: Scan, connection: Connection) -> None:
    """scan.completed or scan.failed (a cancelled scan has no event: someone asked for it)."""
    event_type = {
        ScanStatus.COMPLETED: EventType.SCAN_COMPLETED,
        ScanStatus.FAILED: EventType.SCAN_FAILED,
    }.get(scan.status)
    if event_type is None:
        return
    emit(
        uow,
        tenant_id,
        event_type,
        ScanEventData(
            tenant_id=tenant_id,
            client_id=connection.client_id,
            connection_id=connection.id,
            scan_id=scan.id,
            status=scan.status,
            since=scan.since,
            until=scan.until,
            posts_scanned=scan.posts_scanned,
            comments_scanned=scan.comments_scanned,
            findings=scan.findings,
            hidden=scan.hidden,
            errors=scan.errors,
            error=scan.last_error if scan.status is ScanStatus.FAILED else None,
            started_at=scan.started_at,
            finished_at=scan.finished_at,
            url=api_url(uow.public_url, f"/v1/scans/{scan.id}"),
        ),
        client_id=connection.client_id,
    )
