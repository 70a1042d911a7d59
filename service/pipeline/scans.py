"""Backfill scans: walk a page's posts and every comment and reply under them.

``run_scan(tenant_id, scan_id)`` works one page of comments (up to 100) at a time: it hands the
page to the pipeline's ``handle_comments`` in one transaction that also moves the scan's counts
and checkpoint, commits, then performs the hides that transaction recorded as one batch. A crash
loses at most the page in flight, and that page is simply read again: findings and moderation
actions are unique per comment, so nothing is hidden or counted twice.

The job is safe to run twice: it holds a Postgres advisory lock per scan for as long as it
walks (released by Postgres itself if the worker dies), and re-checks the scan's status under
a row lock between pages, which is also how ``POST /v1/scans/{id}/cancel`` stops it. It works
in slices of ``SLICE_SECONDS`` and then queues its own continuation, so a long scan never meets
arq's job timeout and other jobs get their turn.

The walk itself (which platform pages, in which order, from which checkpoint) is the scanning
domain's (service/scanning/walk.py); this module runs it through the comment pipeline.

``reconcile_scans`` (cron, every few seconds) re-enqueues scans whose job was lost: no heartbeat
for ``lease_seconds`` (killed worker, Redis restart; a second job of a scan that is alive only
finds its advisory lock held), a rate-limit wait that arq never resumed, or a wait on a
connection that is active again after re-authorisation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from service import queue as jobs
from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import TenantId
from service.connections.errors import NoPageToken
from service.connections.models import Connection, ConnectionStatus
from service.connections.repository import ConnectionRepository
from service.connections.service import mark_needs_reauth, page_token
from service.db import UnitOfWork, utcnow
from service.findings.models import FindingSource
from service.pipeline.actions import perform_pending_actions
from service.pipeline.comments import CommentView, HandleOutcome, handle_comments
from service.pipeline.context import PipelineContext
from service.platforms import errors as platform_errors
from service.scanning.models import Scan, ScanStatus
from service.scanning.repository import ACTIVE_STATUSES, ScanRepository
from service.scanning.service import scan_event
from service.scanning.walk import (
    Batch,
    Plan,
    checkpoint_of,
    dump_checkpoint,
    history,
    prefetch,
    scan_lock,
)

log = structlog.get_logger(__name__)

ACTOR = "system:scan"
# One job works this long, then queues its continuation from its checkpoint (well below the job
# timeout): short jobs keep the claim on a job short (service/queue.py, ResilientWorker), so a
# killed worker's scan is resumed within seconds, not minutes.
SLICE_SECONDS = 20.0
# The arq registration the worker uses (service/workers/jobs.py): a slice and its settling.
SCAN_JOB_TIMEOUT = jobs.LONGEST_JOB_SECONDS
SCAN_MAX_TRIES = 25
# Back-off after the platform stayed unavailable through the client's own retries.
UNAVAILABLE_BASE_DELAY = 15.0
UNAVAILABLE_MAX_DELAY = 600.0
UNAVAILABLE_MAX_TRIES = 8


@dataclass(slots=True)
class _Unsettled:
    """Findings whose hides were recorded by a committed page and are being performed."""

    finding_ids: list[uuid.UUID] = field(default_factory=list)
    task: asyncio.Task[Any] | None = None


class _Stop(Exception):
    """The scan stopped for a reason already recorded on its row."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


# --- the job -------------------------------------------------------------------------------


class Scanner:
    def __init__(
        self,
        pctx: PipelineContext,
        tenant_id: TenantId,
        scan_id: uuid.UUID,
        *,
        job_try: int = 1,
        slice_seconds: float = SLICE_SECONDS,
    ) -> None:
        self.pctx = pctx
        self.db = pctx.db
        self.tenant_id = tenant_id
        self.scan_id = scan_id
        self.job_try = job_try
        self.slice_seconds = slice_seconds
        self._unsettled = _Unsettled()
        # Hides performed but not yet added to the scan's row (added with the next page).
        self._hidden = 0

    async def run(self) -> tuple[str, float | None]:
        """Returns the outcome and, when the scan waits for the platform, the seconds after
        which the job should run again."""
        retry_after: float | None = None
        outcome = "busy"
        async with scan_lock(self.db, self.scan_id) as acquired:
            if acquired:
                outcome, retry_after = await self._run_locked()
        # Both only once the lock is released, so the next job never finds it still held.
        if outcome == "continued":
            await self.pctx.queue.send(
                [jobs.run_scan(self.tenant_id, self.scan_id, f"c{time.time_ns()}")]
            )
        return outcome, retry_after

    async def _run_locked(self) -> tuple[str, float | None]:
        plan = await self._begin()
        if isinstance(plan, str):
            return plan, None
        try:
            await self._resume_actions()
            return await self._walk(plan), None
        except _Stop as stop:
            return stop.outcome, None
        except platform_errors.TokenInvalid as exc:
            await self._needs_reauth(exc)
            return ScanStatus.WAITING.value, None
        except platform_errors.RateLimited as exc:
            delay = min(max(exc.retry_after, 1.0), self.pctx.config.max_defer_seconds)
            await self._wait(f"Rate limited by the platform; resuming in {delay:.0f} s.", delay)
            return ScanStatus.WAITING.value, delay
        except platform_errors.PlatformUnavailable as exc:
            if self.job_try >= UNAVAILABLE_MAX_TRIES:
                await self._finish(ScanStatus.FAILED, f"The platform stayed unavailable: {exc}")
                return ScanStatus.FAILED.value, None
            delay = min(UNAVAILABLE_BASE_DELAY * 2 ** (self.job_try - 1), UNAVAILABLE_MAX_DELAY)
            await self._wait(
                f"The platform is unavailable; resuming in {delay:.0f} s.", delay, error=True
            )
            return ScanStatus.WAITING.value, delay
        except platform_errors.PlatformError as exc:
            # Missing permission, a bad request: running again will not help.
            await self._finish(ScanStatus.FAILED, f"The platform refused the scan: {exc}")
            return ScanStatus.FAILED.value, None
        except Exception as exc:
            log.exception("scan_failed", scan_id=str(self.scan_id), error=type(exc).__name__)
            # The exception text could quote a value from the database: only its type is kept.
            await self._finish(ScanStatus.FAILED, f"Internal error ({type(exc).__name__}).")
            raise
        finally:
            await self._settle_quietly()

    # --- state transitions ---------------------------------------------------------------

    async def _begin(self) -> Plan | str:
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is None:
                return "missing"
            if scan.status not in ACTIVE_STATUSES:
                return scan.status.value
            connection = await ConnectionRepository(uow.session).get(
                self.tenant_id, scan.connection_id
            )
            now = utcnow()
            checkpoint = checkpoint_of(scan)
            checkpoint.wait_until = None
            scan.checkpoint = dump_checkpoint(checkpoint)
            scan.heartbeat_at = now
            if connection is None or connection.status is not ConnectionStatus.ACTIVE:
                status = connection.status.value if connection else "gone"
                scan.status = ScanStatus.WAITING
                scan.last_error = (
                    f"The connection is {status}; the scan resumes when it is active again."
                )
                return ScanStatus.WAITING.value
            try:
                token = page_token(self.pctx.cipher, connection)
            except NoPageToken:
                await mark_needs_reauth(uow, connection, "no page token stored", ACTOR)
                scan.status = ScanStatus.WAITING
                scan.last_error = "The connection has no token; re-authorise it to resume."
                return ScanStatus.WAITING.value
            scan.status = ScanStatus.RUNNING
            scan.started_at = scan.started_at or now
            return Plan(
                connection_id=connection.id,
                platform=connection.platform,
                external_id=connection.external_id,
                token=token,
                since=scan.since,
                until=scan.until,
                checkpoint=checkpoint,
            )

    async def _needs_reauth(self, exc: platform_errors.TokenInvalid) -> None:
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is None or scan.status is not ScanStatus.RUNNING:
                return
            connection = await ConnectionRepository(uow.session).get_for_update(
                self.tenant_id, scan.connection_id
            )
            if connection is not None:
                await mark_needs_reauth(uow, connection, exc.message, ACTOR)
            scan.status = ScanStatus.WAITING
            scan.last_error = (
                "The platform refused the page token; re-authorise the connection and the "
                "scan resumes from where it stopped."
            )
            scan.heartbeat_at = utcnow()

    async def _wait(self, reason: str, delay: float, *, error: bool = False) -> None:
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is None or scan.status is not ScanStatus.RUNNING:
                return
            checkpoint = checkpoint_of(scan)
            checkpoint.wait_until = time.time() + delay
            scan.checkpoint = dump_checkpoint(checkpoint)
            scan.status = ScanStatus.WAITING
            scan.last_error = reason
            scan.heartbeat_at = utcnow()
            if error:
                scan.errors += 1

    async def _finish(self, status: ScanStatus, reason: str | None) -> None:
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is None or scan.status not in ACTIVE_STATUSES:
                return
            scan.status = status
            scan.last_error = reason[:2000] if reason else scan.last_error
            scan.finished_at = scan.heartbeat_at = utcnow()
            await self._audit_end(uow, scan)

    async def _audit_end(self, uow: UnitOfWork, scan: Scan) -> None:
        """The scan ended: settle its hidden count from the findings themselves (hides done by
        a worker that died before counting them are counted here), and audit the end."""
        await ScanRepository(uow.session).settle_hidden(self.tenant_id, scan)
        record(
            uow,
            self.tenant_id,
            actor=ACTOR,
            action=f"scan.{scan.status.value}",
            subject_type="scan",
            subject_id=scan.id,
            data={
                "posts_scanned": scan.posts_scanned,
                "comments_scanned": scan.comments_scanned,
                "findings": scan.findings,
                "hidden": scan.hidden,
                "errors": scan.errors,
            },
        )
        connection = await ConnectionRepository(uow.session).get(self.tenant_id, scan.connection_id)
        if connection is not None:
            scan_event(uow, self.tenant_id, scan, connection)

    async def _resume_actions(self) -> None:
        """Hides a previous run committed but did not live to perform: do them first."""
        async with self.db.unit_of_work(self.tenant_id) as uow:
            pending = await ScanRepository(uow.session).pending_action_ids(
                self.tenant_id, self.scan_id
            )
        if pending:
            log.info("scan_resuming_actions", scan_id=str(self.scan_id), count=len(pending))
            self._perform([a for a, _ in pending], (), sorted({f for _, f in pending}))
            await self._add_hidden(await self._settle())

    # --- the walk ------------------------------------------------------------------------

    async def _walk(self, plan: Plan) -> str:
        started = time.monotonic()
        batches = prefetch(history(self.pctx.graph, plan))
        try:
            async for batch in batches:
                done = await self._commit(batch)
                if done:
                    return ScanStatus.COMPLETED.value
                if time.monotonic() - started > self.slice_seconds:
                    return "continued"
        finally:
            await batches.aclose()
        # The feed ended without a final batch (cannot happen with a well-formed walk).
        await self._finish(ScanStatus.COMPLETED, None)
        return ScanStatus.COMPLETED.value

    # --- one page, one transaction -------------------------------------------------------

    async def _commit(self, batch: Batch) -> bool:
        """Handle a page of comments and move the scan on, in one transaction; then perform
        the hides it recorded. Returns True when the scan is complete.

        The previous page's hides (one transaction, one Graph batch request) run while this
        page is handled and are awaited only after its commit; both append to the tenant's
        audit chain, whose lock each takes only for its own commit. The last page waits for
        them first, so the scan completes with every hide counted."""
        if batch.final:
            self._hidden += await self._settle()
        hidden, self._hidden = self._hidden, 0
        received_at = utcnow()
        try:
            done, action_ids, fresh, findings = await self._commit_once(
                batch, hidden, received_at, careful=False
            )
        except _Stop:
            await self._add_hidden(hidden + await self._settle())
            raise
        except Exception as exc:
            # One bad comment must not stall the scan: do the page again one comment at a time,
            # each in a savepoint, and count the ones that fail.
            log.warning("scan_page_retry", scan_id=str(self.scan_id), error=type(exc).__name__)
            done, action_ids, fresh, findings = await self._commit_once(
                batch, hidden, received_at, careful=True
            )
        self._hidden += await self._settle()
        if action_ids:
            self._perform(action_ids, fresh, findings)
            if done:
                await self._settle_final()
        return done

    def _perform(
        self,
        action_ids: Sequence[uuid.UUID],
        fresh: Collection[uuid.UUID],
        finding_ids: list[uuid.UUID],
    ) -> None:
        """Perform a committed page's actions in the background, as one batch (the next page
        is fetched and handled meanwhile)."""
        task = asyncio.create_task(
            perform_pending_actions(
                self.pctx, self.tenant_id, action_ids, fresh=fresh, scan_counts=False
            )
        )
        self._unsettled = _Unsettled(finding_ids, task)

    async def _commit_once(
        self, batch: Batch, hidden_before: int, received_at: dt.datetime, *, careful: bool
    ) -> tuple[bool, list[uuid.UUID], list[uuid.UUID], list[uuid.UUID]]:
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is None:
                raise _Stop("missing")
            if scan.status is not ScanStatus.RUNNING:
                raise _Stop(scan.status.value)
            connection = await ConnectionRepository(uow.session).get(
                self.tenant_id, scan.connection_id
            )
            if connection is None:
                raise _Stop("missing")
            action_ids: list[uuid.UUID] = []
            fresh: list[uuid.UUID] = []
            acted: list[uuid.UUID] = []
            findings = errors = 0
            for outcome in await self._handle(
                uow, scan, connection, batch.comments, received_at, careful=careful
            ):
                if outcome is None:
                    errors += 1
                    continue
                if outcome.finding_id is not None:
                    findings += 1
                if outcome.action_ids:
                    action_ids.extend(outcome.action_ids)
                    fresh.extend(outcome.fresh_action_ids)
                    if outcome.finding_id is not None:
                        acted.append(outcome.finding_id)
            now = utcnow()
            scan.comments_scanned += len(batch.comments)
            scan.posts_scanned += batch.posts_done
            scan.findings += findings
            scan.errors += errors
            scan.hidden += hidden_before
            scan.checkpoint = dump_checkpoint(batch.checkpoint)
            scan.heartbeat_at = now
            if batch.final and not action_ids:
                scan.status = ScanStatus.COMPLETED
                scan.finished_at = now
                await self._audit_end(uow, scan)
        return batch.final, action_ids, fresh, acted

    async def _handle(
        self,
        uow: UnitOfWork,
        scan: Scan,
        connection: Connection,
        comments: Sequence[CommentView],
        received_at: dt.datetime,
        *,
        careful: bool,
    ) -> list[HandleOutcome | None]:
        """The page through the pipeline in one go; ``careful``: one comment at a time, each
        in a savepoint, a failing one counted as an error (None) instead of failing the page."""
        if not careful:
            return list(
                await handle_comments(
                    self.pctx,
                    uow,
                    connection,
                    comments,
                    source=FindingSource.SCAN,
                    received_at=received_at,
                    scan_id=self.scan_id,
                )
            )
        outcomes: list[HandleOutcome | None] = []
        for comment in comments:
            try:
                async with uow.savepoint():
                    outcomes.extend(
                        await handle_comments(
                            self.pctx,
                            uow,
                            connection,
                            [comment],
                            source=FindingSource.SCAN,
                            received_at=received_at,
                            scan_id=self.scan_id,
                        )
                    )
            except Exception as exc:
                outcomes.append(None)
                scan.last_error = f"A comment could not be handled ({type(exc).__name__})."
        return outcomes

    # --- hides performed after a page: counted into the next transaction -------------------

    async def _settle(self) -> int:
        """Wait for the previous page's hides; returns how many of its findings are hidden."""
        unsettled, self._unsettled = self._unsettled, _Unsettled()
        if unsettled.task is None:
            return 0
        try:
            await unsettled.task
        except Exception as exc:
            # The actions stay pending in Postgres; the moderation reconcile sends them again.
            log.warning("scan_actions_failed", scan_id=str(self.scan_id), error=type(exc).__name__)
        async with self.db.unit_of_work(self.tenant_id) as uow:
            return await ScanRepository(uow.session).count_hidden(
                self.tenant_id, unsettled.finding_ids
            )

    async def _settle_final(self) -> None:
        """The last page recorded hides: perform them, then count them and complete."""
        hidden, self._hidden = self._hidden + await self._settle(), 0
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is None or scan.status is not ScanStatus.RUNNING:
                return
            scan.hidden += hidden
            scan.status = ScanStatus.COMPLETED
            scan.finished_at = scan.heartbeat_at = utcnow()
            await self._audit_end(uow, scan)

    async def _add_hidden(self, hidden: int) -> None:
        if not hidden:
            return
        async with self.db.unit_of_work(self.tenant_id) as uow:
            scan = await ScanRepository(uow.session).get_for_update(self.tenant_id, self.scan_id)
            if scan is not None:
                scan.hidden += hidden

    async def _settle_quietly(self) -> None:
        """On any way out: let in-flight hides finish and count them."""
        try:
            hidden, self._hidden = self._hidden + await self._settle(), 0
            await self._add_hidden(hidden)
        except Exception as exc:
            log.warning("scan_settle_failed", scan_id=str(self.scan_id), error=type(exc).__name__)


async def reconcile_scans(
    pctx: PipelineContext, *, stale_after: dt.timedelta | None = None
) -> list[str]:
    """Send a job for every active scan that has none (see the module docstring). Returns the
    ids of the scans it sent a job for."""
    db = pctx.db
    if stale_after is None:
        stale_after = dt.timedelta(seconds=pctx.config.lease_seconds)
    now = utcnow()
    async with db.system_unit_of_work() as uow:
        scans = await ScanRepository(uow.session).needing_a_job(stale_before=now - stale_after)
        for scan in scans:
            if scan.status is ScanStatus.WAITING:
                checkpoint = checkpoint_of(scan)
                checkpoint.wait_until = None
                scan.checkpoint = dump_checkpoint(checkpoint)
                scan.status = ScanStatus.PENDING
            # Also the mark that stops the next run of this cron from sending it again.
            scan.heartbeat_at = now
            uow.jobs.add(
                jobs.run_scan(system_tenant(scan.tenant_id), scan.id, f"r{int(now.timestamp())}")
            )
    if scans:
        log.info("scans_reconciled", count=len(scans))
    return [str(scan.id) for scan in scans]
