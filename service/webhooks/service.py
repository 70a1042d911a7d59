"""Outbound webhooks: the outbox producers write to, endpoint and delivery operations, and one
delivery attempt from claim to record.

Producers call ``emit(uow, tenant_id, event_type, data, client_id=...)`` inside the unit of work
that makes the change. Nothing is written then: the events are staged on the unit of work and,
right before it commits, one query finds the tenant's enabled endpoints and one insert each
writes the events and their deliveries (one per matching endpoint), in that same transaction.
One job per endpoint touched joins the unit of work's pending jobs, sent after the commit; a
rollback drops events, deliveries and jobs together. A tenant without endpoints pays one small
query per transaction that emitted.

Deliveries to an endpoint go in rounds (``deliver_due``), so no transaction is open while the
receiver is called: lease up to ``round_size`` due deliveries (committed), send them
``endpoint_concurrency`` at a time, then record every attempt, each delivery's new state, the
endpoint's failure streak and the retries' wake-up jobs in one unit of work. A round costs a
handful of statements however many deliveries it holds.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import structlog

from service.audit.service import record
from service.auth.types import Principal, TenantId
from service.crypto import Cipher
from service.db import Database, UnitOfWork, utcnow
from service.errors import Conflict, FieldError, NotFound, ValidationFailed
from service.ids import new_id
from service.queue import PendingJobs, Queue, deliver_webhooks
from service.structs import apply_changes, changes, to_schema
from service.webhooks import schemas
from service.webhooks.delivery import DeliveryConfig, Outcome, WebhookSender, retry_delay
from service.webhooks.events import (
    CATALOGUE,
    EndpointDisabledEventData,
    EventType,
    WebhookTestData,
    body,
    json_schema,
)
from service.webhooks.guard import Policy, RefusedUrl, Resolver, check_url, system_resolve
from service.webhooks.metrics import ATTEMPT_SECONDS, ATTEMPTS, DELIVERIES, OLDEST_PENDING
from service.webhooks.models import (
    SECRET_PURPOSE,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from service.webhooks.repository import DeliveryRepository, EndpointRepository, EventRepository

log = structlog.get_logger(__name__)

ACTOR = "system:webhooks"


def add_delivery_job(
    jobs: PendingJobs,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    *,
    defer_by: float | None = None,
) -> None:
    """Wake the endpoint's drain (``deliver_due``). Without a job id: a second wake-up while
    one drain runs is cheap (it finds the work taken, or asks the running drain to go on)."""
    jobs.add(deliver_webhooks(tenant_id, endpoint_id, defer_by=defer_by))


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def api_url(public_url: str, path: str) -> str:
    return public_url.rstrip("/") + path


# --- the outbox ------------------------------------------------------------------------------


class _Staged(msgspec.Struct):
    event_id: uuid.UUID
    type: EventType
    client_id: uuid.UUID | None
    occurred_at: dt.datetime
    body: bytes
    # webhook.test goes to one endpoint; webhook_endpoint.disabled never to the disabled one.
    only_endpoint: uuid.UUID | None = None


class Outbox:
    """A unit of work's events for one tenant, written with their deliveries at its commit."""

    def __init__(self, tenant_id: TenantId, jobs: PendingJobs) -> None:
        self.tenant_id = tenant_id
        self.jobs = jobs
        self.events: list[_Staged] = []

    def mark(self) -> int:
        return len(self.events)

    def rollback_to(self, mark: int) -> None:
        del self.events[mark:]

    async def flush(self, session: Any) -> None:
        if not self.events:
            return
        events, self.events = self.events, []
        targets = await EndpointRepository(session).fan_out_targets(self.tenant_id)
        if not targets:
            return
        event_rows: list[dict[str, Any]] = []
        delivery_rows: list[dict[str, Any]] = []
        woken: set[uuid.UUID] = set()
        for event in events:
            matched = [
                t
                for t in targets
                if (not t.event_types or event.type.value in t.event_types)
                and (t.client_id is None or t.client_id == event.client_id)
                and (event.only_endpoint is None or t.id == event.only_endpoint)
            ]
            if not matched:
                continue
            event_rows.append(
                {
                    "tenant_id": self.tenant_id,
                    "id": event.event_id,
                    "type": event.type.value,
                    "client_id": event.client_id,
                    "occurred_at": event.occurred_at,
                    "body": event.body,
                }
            )
            for target in matched:
                delivery_id = new_id()
                delivery_rows.append(
                    {
                        "tenant_id": self.tenant_id,
                        "id": delivery_id,
                        "endpoint_id": target.id,
                        "event_id": event.event_id,
                        "event_type": event.type.value,
                        "status": DeliveryStatus.PENDING,
                        "attempts": 0,
                        "round_attempts": 0,
                        "next_attempt_at": event.occurred_at,
                    }
                )
                woken.add(target.id)
        await EventRepository(session).insert(event_rows)
        await DeliveryRepository(session).insert(delivery_rows)
        for endpoint_id in sorted(woken):
            add_delivery_job(self.jobs, self.tenant_id, endpoint_id)


def _outbox(uow: UnitOfWork, tenant_id: TenantId) -> Outbox:
    factory: Callable[[], Outbox] = lambda: Outbox(tenant_id, uow.jobs)  # noqa: E731
    return uow.staged(f"webhooks:{tenant_id}", factory)


def emit(
    uow: UnitOfWork,
    tenant_id: TenantId,
    event_type: EventType,
    data: msgspec.Struct,
    *,
    client_id: uuid.UUID | None,
    only_endpoint: uuid.UUID | None = None,
) -> uuid.UUID:
    """Record ``event_type`` for the tenant's matching endpoints in this unit of work: written
    with it, sent after it commits, dropped if it rolls back. ``data`` is the event's payload
    Struct (service/webhooks/events.py) and must hold no raw personal value. Returns the event
    id."""
    now = utcnow()
    event_id = new_id()
    _outbox(uow, tenant_id).events.append(
        _Staged(event_id, event_type, client_id, now, body(event_type, now, data), only_endpoint)
    )
    return event_id


# --- endpoints -------------------------------------------------------------------------------


def _endpoint_schema(row: WebhookEndpoint) -> schemas.WebhookEndpoint:
    return to_schema(row, schemas.WebhookEndpoint)


def _with_secret(row: WebhookEndpoint, secret: str) -> schemas.WebhookEndpointWithSecret:
    values = msgspec.structs.asdict(_endpoint_schema(row))
    return schemas.WebhookEndpointWithSecret(**values, secret=secret)


def live_secrets(row: WebhookEndpoint, cipher: Cipher, now: dt.datetime) -> list[str]:
    """The current secret, and the previous one while its rotation overlap lasts."""
    secrets = [
        cipher.decrypt_text(row.secret_ciphertext, tenant_id=row.tenant_id, purpose=SECRET_PURPOSE)
    ]
    if (
        row.previous_secret_ciphertext is not None
        and row.previous_secret_expires_at is not None
        and row.previous_secret_expires_at > now
    ):
        secrets.append(
            cipher.decrypt_text(
                row.previous_secret_ciphertext, tenant_id=row.tenant_id, purpose=SECRET_PURPOSE
            )
        )
    return secrets


class WebhookEndpointService:
    def __init__(
        self,
        uow: UnitOfWork,
        cipher: Cipher,
        policy: Policy,
        *,
        config: DeliveryConfig | None = None,
        resolve: Resolver = system_resolve,
    ) -> None:
        self.uow = uow
        self.cipher = cipher
        self.policy = policy
        self.config = config or DeliveryConfig()
        self.resolve = resolve
        self.endpoints = EndpointRepository(uow.session)

    async def load(
        self, principal: Principal, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> WebhookEndpoint:
        """An endpoint the caller may see; another tenant's or another client's is a 404."""
        row = await self.endpoints.get(principal.tenant_id, endpoint_id, lock=lock)
        if row is None or (
            principal.client_id is not None and row.client_id != principal.client_id
        ):
            raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
        return row

    async def _check_url(self, url: str) -> None:
        try:
            await check_url(url, self.policy, self.resolve)
        except RefusedUrl as exc:
            raise ValidationFailed(
                f"$.url: {exc}", errors=[FieldError(field="$.url", message=str(exc))]
            ) from None

    def _encrypt(self, tenant_id: uuid.UUID, secret: str) -> bytes:
        return self.cipher.encrypt_text(secret, tenant_id=tenant_id, purpose=SECRET_PURPOSE)

    async def create(
        self, principal: Principal, data: schemas.WebhookEndpointCreate
    ) -> schemas.WebhookEndpointWithSecret:
        from service.tenancy.service import ClientService

        client_id = data.client_id if data.client_id is not None else principal.client_id
        if client_id is not None:
            await ClientService(self.uow).load(principal, client_id)
        await self._check_url(data.url)
        secret = new_secret()
        row = WebhookEndpoint(
            tenant_id=principal.tenant_id,
            client_id=client_id,
            url=data.url,
            description=data.description,
            event_types=sorted({e.value for e in data.event_types}),
            enabled=True,
            secret_ciphertext=self._encrypt(principal.tenant_id, secret),
        )
        self.endpoints.add(row)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="webhook_endpoint.created",
            subject_type="webhook_endpoint",
            subject_id=row.id,
            data={"client_id": str(client_id) if client_id else None},
        )
        return _with_secret(row, secret)

    async def list(
        self, principal: Principal, *, cursor: str | None, limit: int
    ) -> schemas.WebhookEndpointList:
        rows, next_cursor = await self.endpoints.list(
            principal.tenant_id, client_id=principal.client_id, cursor=cursor, limit=limit
        )
        return schemas.WebhookEndpointList(
            items=[_endpoint_schema(r) for r in rows], next_cursor=next_cursor
        )

    async def get(self, principal: Principal, endpoint_id: uuid.UUID) -> schemas.WebhookEndpoint:
        return _endpoint_schema(await self.load(principal, endpoint_id))

    async def update(
        self, principal: Principal, endpoint_id: uuid.UUID, data: schemas.WebhookEndpointUpdate
    ) -> schemas.WebhookEndpoint:
        row = await self.load(principal, endpoint_id, lock=True)
        values = changes(data)
        if "url" in values:
            await self._check_url(values["url"])
        if "event_types" in values:
            values["event_types"] = sorted({e.value for e in values["event_types"]})
        enabled = values.pop("enabled", None)
        apply_changes(row, values)
        if enabled is True and not row.enabled:
            row.enabled = True
            row.disabled_reason = None
            row.disabled_at = None
            row.failing_since = None
        elif enabled is False and row.enabled:
            row.enabled = False
            row.disabled_reason = f"disabled by {principal.actor}"
            row.disabled_at = utcnow()
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="webhook_endpoint.updated",
            subject_type="webhook_endpoint",
            subject_id=row.id,
            data={"fields": sorted(changes(data))},
        )
        return _endpoint_schema(row)

    async def delete(self, principal: Principal, endpoint_id: uuid.UUID) -> None:
        row = await self.load(principal, endpoint_id)
        await self.endpoints.delete(row)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="webhook_endpoint.deleted",
            subject_type="webhook_endpoint",
            subject_id=endpoint_id,
        )

    async def rotate_secret(
        self, principal: Principal, endpoint_id: uuid.UUID
    ) -> schemas.WebhookEndpointWithSecret:
        row = await self.load(principal, endpoint_id, lock=True)
        secret = new_secret()
        row.previous_secret_ciphertext = row.secret_ciphertext
        row.previous_secret_expires_at = utcnow() + self.config.rotation_overlap
        row.secret_ciphertext = self._encrypt(row.tenant_id, secret)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="webhook_endpoint.secret_rotated",
            subject_type="webhook_endpoint",
            subject_id=row.id,
        )
        return _with_secret(row, secret)

    async def replay(
        self, principal: Principal, endpoint_id: uuid.UUID, since: dt.datetime
    ) -> schemas.ReplayAccepted:
        row = await self.load(principal, endpoint_id)
        if not row.enabled:
            raise Conflict("The endpoint is disabled: enable it first, then replay.")
        replayed = await DeliveryRepository(self.uow.session).replay_failed(
            principal.tenant_id, endpoint_id, since, utcnow()
        )
        if replayed:
            add_delivery_job(self.uow.jobs, principal.tenant_id, endpoint_id)
            record(
                self.uow,
                principal.tenant_id,
                actor=principal.actor,
                action="webhook_endpoint.replayed",
                subject_type="webhook_endpoint",
                subject_id=endpoint_id,
                data={"since": since.isoformat(), "deliveries": len(replayed)},
            )
        return schemas.ReplayAccepted(replayed=len(replayed))

    async def stage_test(self, principal: Principal, endpoint_id: uuid.UUID) -> uuid.UUID:
        """A webhook.test event and its one delivery, committed with this unit of work; the
        caller attempts it right after the commit. Returns the delivery id."""
        row = await self.load(principal, endpoint_id)
        if not row.enabled:
            raise Conflict("The endpoint is disabled: enable it first.")
        now = utcnow()
        event_id, delivery_id = new_id(), new_id()
        data = WebhookTestData(
            tenant_id=row.tenant_id,
            client_id=row.client_id,
            endpoint_id=row.id,
            message="This is a test event from Wallguard.",
            sent_at=now,
        )
        await EventRepository(self.uow.session).insert(
            [
                {
                    "tenant_id": row.tenant_id,
                    "id": event_id,
                    "type": EventType.WEBHOOK_TEST.value,
                    "client_id": row.client_id,
                    "occurred_at": now,
                    "body": body(EventType.WEBHOOK_TEST, now, data),
                }
            ]
        )
        await DeliveryRepository(self.uow.session).insert(
            [
                {
                    "tenant_id": row.tenant_id,
                    "id": delivery_id,
                    "endpoint_id": row.id,
                    "event_id": event_id,
                    "event_type": EventType.WEBHOOK_TEST.value,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "round_attempts": 0,
                    "next_attempt_at": now,
                }
            ]
        )
        return delivery_id


# --- deliveries ------------------------------------------------------------------------------


def _delivery_values(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "endpoint_id": row.endpoint_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempt_count": row.attempts,
        "next_attempt_at": row.next_attempt_at if row.status is DeliveryStatus.PENDING else None,
        "last_attempt_at": row.last_attempt_at,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "succeeded_at": row.succeeded_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class WebhookDeliveryService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.deliveries = DeliveryRepository(uow.session)
        self.endpoints = EndpointRepository(uow.session)

    async def _load(
        self, principal: Principal, delivery_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[WebhookDelivery, WebhookEndpoint]:
        row = await self.deliveries.get(principal.tenant_id, delivery_id, lock=lock)
        endpoint = await self.endpoints.get(principal.tenant_id, row.endpoint_id) if row else None
        if (
            row is None
            or endpoint is None
            or (principal.client_id is not None and endpoint.client_id != principal.client_id)
        ):
            raise NotFound(f"Webhook delivery {delivery_id} not found.")
        return row, endpoint

    async def list(
        self,
        principal: Principal,
        *,
        endpoint_id: uuid.UUID | None,
        event_type: EventType | None,
        status: DeliveryStatus | None,
        since: dt.datetime | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.WebhookDeliveryList:
        rows, next_cursor = await self.deliveries.list(
            principal.tenant_id,
            client_id=principal.client_id,
            endpoint_id=endpoint_id,
            event_type=event_type.value if event_type else None,
            status=status,
            since=since,
            cursor=cursor,
            limit=limit,
        )
        return schemas.WebhookDeliveryList(
            items=[msgspec.convert(_delivery_values(r), schemas.WebhookDelivery) for r in rows],
            next_cursor=next_cursor,
        )

    async def get(
        self, principal: Principal, delivery_id: uuid.UUID
    ) -> schemas.WebhookDeliveryDetail:
        row, _ = await self._load(principal, delivery_id)
        attempts = await self.deliveries.attempts(principal.tenant_id, delivery_id)
        raw = await EventRepository(self.uow.session).body(principal.tenant_id, row.event_id)
        values = _delivery_values(row)
        values["attempts"] = [to_schema(a, schemas.WebhookAttempt) for a in attempts]
        values["payload"] = msgspec.json.decode(raw) if raw else {}
        return msgspec.convert(values, schemas.WebhookDeliveryDetail)

    async def replay(self, principal: Principal, delivery_id: uuid.UUID) -> schemas.WebhookDelivery:
        """Send a delivery again (same webhook-id), whatever its outcome was."""
        row, endpoint = await self._load(principal, delivery_id, lock=True)
        if not endpoint.enabled:
            raise Conflict("The endpoint is disabled: enable it first, then replay.")
        if row.status is not DeliveryStatus.PENDING:
            row.status = DeliveryStatus.PENDING
            row.round_attempts = 0
            row.next_attempt_at = utcnow()
            row.lease_until = None
            add_delivery_job(self.uow.jobs, row.tenant_id, row.endpoint_id)
            await self.uow.session.flush()
        return msgspec.convert(_delivery_values(row), schemas.WebhookDelivery)


def event_types() -> schemas.WebhookEventTypeList:
    return schemas.WebhookEventTypeList(
        items=[
            schemas.WebhookEventType(
                name=spec.event_type,
                description=spec.description,
                schema=json_schema(spec.event_type),
            )
            for spec in CATALOGUE.values()
        ]
    )


# --- delivering: one endpoint's due deliveries, in rounds ----------------------------------


class _Claimed(msgspec.Struct):
    id: uuid.UUID
    attempts: int
    round_attempts: int
    body: bytes


class _Round(msgspec.Struct):
    endpoint_id: uuid.UUID
    url: str
    secrets: list[str]
    deliveries: list[_Claimed]


async def _claim_round(
    db: Database,
    cipher: Cipher,
    config: DeliveryConfig,
    tenant_id: TenantId,
    endpoint_id: uuid.UUID,
    only: uuid.UUID | None,
) -> _Round | str:
    """Lease the endpoint's next due deliveries (committed), with what sending them needs; or
    why there is nothing to send ("idle", "endpoint_disabled", "gone")."""
    now = utcnow()
    async with db.unit_of_work(tenant_id) as uow:
        endpoint = await EndpointRepository(uow.session).get(tenant_id, endpoint_id)
        deliveries = DeliveryRepository(uow.session)
        if endpoint is None:
            return "gone"
        if not endpoint.enabled:
            failed = await deliveries.fail_pending_of(
                tenant_id, endpoint_id, "the endpoint is disabled"
            )
            if failed:
                DELIVERIES.labels("endpoint_disabled").inc(failed)
            return "endpoint_disabled"
        # A failing endpoint gets small rounds: its attempts may each take the whole timeout.
        size = config.round_size if endpoint.failing_since is None else config.endpoint_concurrency
        # The lease covers every attempt of the round, and of the one in flight beside it:
        # they go ``endpoint_concurrency`` at a time, each within the timeout.
        waves = config.rounds_in_flight * -(-size // config.endpoint_concurrency)
        claimed = await deliveries.claim_due(
            tenant_id,
            endpoint_id,
            now,
            dt.timedelta(seconds=waves * config.timeout + 30),
            limit=size,
            only=only,
        )
        if not claimed:
            return "idle"
        bodies = await EventRepository(uow.session).bodies(
            tenant_id, list({c.event_id for c in claimed})
        )
        return _Round(
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secrets=live_secrets(endpoint, cipher, now),
            deliveries=[
                _Claimed(c.id, c.attempts, c.round_attempts, bodies[c.event_id]) for c in claimed
            ],
        )


async def _send_round(
    sender: WebhookSender, batch: _Round, limit: asyncio.Semaphore
) -> list[tuple[dt.datetime, Outcome]]:
    async def one(claimed: _Claimed) -> tuple[dt.datetime, Outcome]:
        async with limit:
            attempted_at = utcnow()
            outcome = await sender.send(batch.url, str(claimed.id), claimed.body, batch.secrets)
        ATTEMPTS.labels(outcome.label).inc()
        ATTEMPT_SECONDS.observe(outcome.duration_ms / 1000)
        return attempted_at, outcome

    return list(await asyncio.gather(*(one(c) for c in batch.deliveries)))


async def _record_round(
    uow: UnitOfWork,
    config: DeliveryConfig,
    tenant_id: TenantId,
    batch: _Round,
    results: list[tuple[dt.datetime, Outcome]],
) -> None:
    """Every attempt of the round, each delivery's new state, the endpoint's failure streak and
    the retries, in one unit of work."""
    now = utcnow()
    attempts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    retries: dict[int, float] = {}
    gone = False
    for claimed, (attempted_at, outcome) in zip(batch.deliveries, results, strict=True):
        attempts.append(
            {
                "tenant_id": tenant_id,
                "id": new_id(),
                "delivery_id": claimed.id,
                "attempted_at": attempted_at,
                "status_code": outcome.status_code,
                "duration_ms": round(outcome.duration_ms, 3),
                "error": outcome.error,
                "response_excerpt": outcome.excerpt,
            }
        )
        row: dict[str, Any] = {
            "tenant_id": tenant_id,
            "id": claimed.id,
            "attempts": claimed.attempts + 1,
            "round_attempts": claimed.round_attempts + 1,
            "last_attempt_at": attempted_at,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "lease_until": None,
            "status": DeliveryStatus.PENDING,
            "succeeded_at": None,
            "next_attempt_at": now,
            "updated_at": now,
        }
        if outcome.succeeded:
            row.update(status=DeliveryStatus.SUCCEEDED, succeeded_at=now)
            DELIVERIES.labels("succeeded").inc()
        elif outcome.gone:
            gone = True
            row.update(status=DeliveryStatus.FAILED)
            DELIVERIES.labels("failed").inc()
        else:
            delay = retry_delay(config, claimed.round_attempts + 1, outcome.retry_after)
            if delay is None:
                row.update(status=DeliveryStatus.FAILED)
                DELIVERIES.labels("failed").inc()
            else:
                row.update(next_attempt_at=now + dt.timedelta(seconds=delay))
                # One wake-up per second of the round's retries (they share the drain).
                retries.setdefault(int(now.timestamp() + delay), delay)
        updates.append(row)
    deliveries = DeliveryRepository(uow.session)
    await deliveries.insert_attempts(attempts)
    await deliveries.update_many(updates)
    if any(outcome.succeeded for _, outcome in results):
        await EndpointRepository(uow.session).clear_failing(tenant_id, batch.endpoint_id)
        streak_started = None
    else:
        first = min(attempted_at for attempted_at, _ in results)
        streak_started = await EndpointRepository(uow.session).mark_failing(
            tenant_id, batch.endpoint_id, first
        )
    if gone:
        await _disable(uow, tenant_id, batch.endpoint_id, "the endpoint answered 410 Gone")
    elif streak_started is not None and now - streak_started >= config.disable_after:
        days = config.disable_after.total_seconds() / 86400
        await _disable(
            uow, tenant_id, batch.endpoint_id, f"every attempt failed for {days:g} days in a row"
        )
    else:
        for delay in retries.values():
            add_delivery_job(uow.jobs, tenant_id, batch.endpoint_id, defer_by=delay)


async def deliver_due(
    db: Database,
    cipher: Cipher,
    sender: WebhookSender,
    tenant_id: TenantId,
    endpoint_id: uuid.UUID,
    *,
    only: uuid.UUID | None = None,
) -> dict[str, int]:
    """Send the endpoint's due deliveries (or just ``only``), a round at a time: lease a round
    (committed), send it with no transaction open, record it (committed). Safe to run twice
    and in parallel: a round is leased, so no delivery is sent by two at once. Stops when none
    is due, or after ``drain_seconds`` with a follow-up job queued. Returns outcome counts."""
    config = sender.config
    started = time.monotonic()
    counts: dict[str, int] = {}
    # One limit for the drain: the rounds in flight share ``endpoint_concurrency``.
    limit = asyncio.Semaphore(config.endpoint_concurrency)

    async def send_and_record(batch: _Round) -> None:
        results = await _send_round(sender, batch, limit)
        async with db.unit_of_work(tenant_id) as uow:
            await _record_round(uow, config, tenant_id, batch, results)
        for _, outcome in results:
            counts[outcome.label] = counts.get(outcome.label, 0) + 1

    # While one round is on the wire the next is leased and started, so the endpoint is kept
    # busy while a round is written to the database.
    in_flight: set[asyncio.Task[None]] = set()
    try:
        while True:
            batch = await _claim_round(db, cipher, config, tenant_id, endpoint_id, only)
            if isinstance(batch, str):
                if in_flight:
                    # Rounds still on the wire may be followed by more work: wait, then look.
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    in_flight = _reap(in_flight)
                    continue
                if batch == "idle" and only is None and sender.more_requested(endpoint_id):
                    continue  # a job arrived for this endpoint while this drain was finishing
                counts[batch] = counts.get(batch, 0) + 1
                return counts
            in_flight.add(asyncio.create_task(send_and_record(batch)))
            if only is not None:
                only = _DONE
                continue
            if len(in_flight) >= config.rounds_in_flight:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                in_flight = _reap(in_flight)
            if time.monotonic() - started > config.drain_seconds:
                # Long enough for one job: the rest in a fresh one (other endpoints get a turn).
                await asyncio.gather(*in_flight)
                async with db.unit_of_work(tenant_id) as uow:
                    add_delivery_job(uow.jobs, tenant_id, endpoint_id)
                return counts
    finally:
        # Cancelled (worker shutdown): the leased rows are retried once their lease expires.
        for task in in_flight:
            task.cancel()


# ``only`` once its one delivery is on its way: nothing else may be claimed by that call.
_DONE = uuid.UUID(int=0)


def _reap(tasks: set[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
    """The tasks still running; a finished one's exception is raised here."""
    for task in tasks:
        if task.done():
            task.result()
    return {t for t in tasks if not t.done()}


async def _disable(
    uow: UnitOfWork, tenant_id: TenantId, endpoint_id: uuid.UUID, reason: str
) -> None:
    """Disable the endpoint, fail its other pending deliveries and tell the tenant's other
    endpoints (webhook_endpoint.disabled)."""
    endpoint = await EndpointRepository(uow.session).get(tenant_id, endpoint_id, lock=True)
    if endpoint is None or not endpoint.enabled:
        return
    now = utcnow()
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    await uow.session.flush()
    failed = await DeliveryRepository(uow.session).fail_pending_of(
        tenant_id, endpoint_id, f"the endpoint was disabled: {reason}"
    )
    if failed:
        DELIVERIES.labels("endpoint_disabled").inc(failed)
    record(
        uow,
        tenant_id,
        actor=ACTOR,
        action="webhook_endpoint.disabled",
        subject_type="webhook_endpoint",
        subject_id=endpoint_id,
        data={"reason": reason},
    )
    emit(
        uow,
        tenant_id,
        EventType.WEBHOOK_ENDPOINT_DISABLED,
        EndpointDisabledEventData(
            tenant_id=tenant_id,
            client_id=endpoint.client_id,
            endpoint_id=endpoint.id,
            endpoint_url=endpoint.url,
            reason=reason,
            disabled_at=now,
            url=api_url(uow.public_url, f"/v1/webhook-endpoints/{endpoint.id}"),
        ),
        client_id=endpoint.client_id,
    )
    log.warning("webhook_endpoint_disabled", endpoint_id=str(endpoint_id), reason=reason)


async def send_test(
    db: Database,
    cipher: Cipher,
    sender: WebhookSender,
    principal: Principal,
    endpoint_id: uuid.UUID,
) -> schemas.WebhookDeliveryDetail:
    """A webhook.test event to one endpoint, committed, attempted at once, and the delivery
    with that attempt returned (a failure is retried like any delivery)."""
    tenant_id = principal.tenant_id
    async with db.unit_of_work(tenant_id) as uow:
        delivery_id = await WebhookEndpointService(
            uow, cipher, sender.policy, config=sender.config
        ).stage_test(principal, endpoint_id)
    await deliver_due(db, cipher, sender, tenant_id, endpoint_id, only=delivery_id)
    async with db.unit_of_work(tenant_id) as uow:
        return await WebhookDeliveryService(uow).get(principal, delivery_id)


# --- reconcile -------------------------------------------------------------------------------


async def reconcile_deliveries(db: Database, queue: Queue, config: DeliveryConfig) -> int:
    """Wake the endpoints whose pending deliveries are overdue by ``stale_after`` (their job
    was lost with Redis or a killed worker) and update the oldest-pending gauge. Returns how
    many endpoints were woken. (Old deliveries are purged by retention, per tenant and client:
    service/retention/purge.py.)"""
    now = utcnow()
    async with db.system_unit_of_work() as uow:
        deliveries = DeliveryRepository(uow.session)
        overdue = await deliveries.overdue_endpoints(
            now - config.stale_after, now, config.reconcile_batch
        )
        oldest = await deliveries.oldest_due(now)
    OLDEST_PENDING.set((now - oldest).total_seconds() if oldest else 0.0)
    jobs = PendingJobs()
    for tenant_id, endpoint_id in overdue:
        add_delivery_job(jobs, tenant_id, endpoint_id)
    sent = await queue.send(jobs)
    if sent:
        log.info("webhook_endpoints_woken", count=sent)
    return sent
