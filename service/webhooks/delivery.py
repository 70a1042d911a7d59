"""Sending one webhook attempt: signing, the shared connection pool, and what an answer means.

One ``WebhookSender`` per process (the worker's, the API's for test events) holds one httpx
client: a shared pool of keep-alive connections, a 15 s timeout, redirects not followed, and the
SSRF guard in its transport (service/webhooks/guard.py). Signatures are made by the
``standardwebhooks`` library, so a receiver verifying with it accepts them unchanged.

One slow endpoint must not hold the others up: a worker process drains an endpoint in one job
at a time (``start_drain``), with at most ``endpoint_concurrency`` attempts in flight; further
jobs for it return at once and the running drain takes their deliveries. Failed attempts are
rescheduled on the retry schedule, so a failing endpoint backs off without blocking the
queue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import msgspec
from standardwebhooks import Webhook

from service.settings import Settings
from service.webhooks.guard import (
    GuardedTransport,
    Policy,
    RefusedAddress,
    Resolver,
    system_resolve,
)

# Delays before attempts 1..8 (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): about 28 h.
RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
EXCERPT_BYTES = 1024
USER_AGENT = "Wallguard-Webhooks/1.0"


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Tunables of delivery. Defaults are the documented behaviour; tests shorten the waits."""

    schedule: tuple[float, ...] = RETRY_SCHEDULE
    # Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter], so retries of
    # many deliveries to an endpoint that was down do not arrive in one burst.
    jitter: float = 0.2
    # A receiver's Retry-After is honoured up to this long.
    retry_after_cap: float = 3600.0
    # An endpoint failing without a single success for this long is disabled.
    disable_after: dt.timedelta = dt.timedelta(days=5)
    timeout: float = 15.0
    endpoint_concurrency: int = 8
    # Deliveries leased and sent per round (``endpoint_concurrency`` at a time); a drain job
    # stops taking new rounds after ``drain_seconds`` and leaves the rest to a new job.
    round_size: int = 64
    rounds_in_flight: int = 2
    drain_seconds: float = 20.0
    max_connections: int = 200
    # After a rotation the old secret keeps signing for this long.
    rotation_overlap: dt.timedelta = dt.timedelta(hours=24)
    # Pending deliveries overdue by this much are sent again by the reconcile cron.
    stale_after: dt.timedelta = dt.timedelta(seconds=120)
    reconcile_batch: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        return cls(
            timeout=settings.webhooks_timeout_seconds,
            endpoint_concurrency=settings.webhooks_endpoint_concurrency,
            stale_after=dt.timedelta(seconds=settings.reconcile_stale_seconds),
        )


def policy_of(settings: Settings) -> Policy:
    return Policy(
        allow_private=settings.webhooks_allow_private,
        https_only=settings.environment == "production",
    )


def retry_delay(
    config: DeliveryConfig,
    attempts_in_round: int,
    retry_after: float | None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds until the next attempt after ``attempts_in_round`` failed ones, or None when the
    schedule is exhausted."""
    if attempts_in_round >= len(config.schedule):
        return None
    factor = 1 + (rng or random).uniform(-config.jitter, config.jitter)
    delay = config.schedule[attempts_in_round] * factor
    if retry_after is not None:
        delay = max(delay, min(retry_after, config.retry_after_cap))
    return max(delay, 0.0)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds (it is either seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def signature(secrets: Sequence[str], msg_id: str, timestamp: dt.datetime, body: bytes) -> str:
    """``v1,<base64>`` per live secret, space-separated (as the spec allows during a rotation)."""
    text = body.decode()
    return " ".join(Webhook(secret).sign(msg_id, timestamp, text) for secret in secrets)


class Outcome(msgspec.Struct, kw_only=True):
    """What one attempt got: an HTTP status, or an error before any answer."""

    status_code: int | None
    error: str | None
    duration_ms: float
    excerpt: str | None
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410

    @property
    def label(self) -> str:
        if self.succeeded:
            return "succeeded"
        if self.status_code is not None:
            return f"http_{self.status_code // 100}xx"
        return self.error.split(":", 1)[0] if self.error else "error"


def _describe(exc: Exception) -> str:
    """A short reason for the attempt log (no response content, no addresses of ours)."""
    if isinstance(exc.__cause__, RefusedAddress):
        return f"refused: {exc.__cause__}"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error: could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "protocol_error: the receiver closed the connection or answered malformed HTTP"
    return f"error: {type(exc).__name__}"


@dataclass
class WebhookSender:
    config: DeliveryConfig
    policy: Policy
    resolve: Resolver = system_resolve
    transport: httpx.AsyncBaseTransport | None = None
    _draining: set[uuid.UUID] = field(default_factory=set)
    _more: set[uuid.UUID] = field(default_factory=set)
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        limits = httpx.Limits(
            max_connections=self.config.max_connections,
            max_keepalive_connections=self.config.max_connections,
            keepalive_expiry=30,
        )
        self.client = httpx.AsyncClient(
            transport=self.transport
            or GuardedTransport(self.policy, limits=limits, resolve=self.resolve),
            timeout=httpx.Timeout(self.config.timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT, "content-type": "application/json"},
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, config: DeliveryConfig | None = None
    ) -> WebhookSender:
        return cls(config or DeliveryConfig.from_settings(settings), policy_of(settings))

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- one drain per endpoint in this process (one event loop: plain sets suffice) --------

    def start_drain(self, endpoint_id: uuid.UUID) -> bool:
        """False when this process already drains the endpoint: that drain is asked to go on
        (``more_requested``) instead, so one endpoint holds one job slot at most."""
        if endpoint_id in self._draining:
            self._more.add(endpoint_id)
            return False
        self._draining.add(endpoint_id)
        return True

    def more_requested(self, endpoint_id: uuid.UUID) -> bool:
        if endpoint_id in self._more:
            self._more.discard(endpoint_id)
            return True
        return False

    def finish_drain(self, endpoint_id: uuid.UUID) -> None:
        self._draining.discard(endpoint_id)
        self._more.discard(endpoint_id)

    # --- one attempt -----------------------------------------------------------------------

    async def send(self, url: str, msg_id: str, body: bytes, secrets: Sequence[str]) -> Outcome:
        # Signed now, not when the event was made: receivers refuse timestamps older than
        # five minutes, and a retry hours later must still verify.
        timestamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature(secrets, msg_id, timestamp, body),
        }
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.timeout):
                async with self.client.stream("POST", url, content=body, headers=headers) as r:
                    excerpt = bytearray()
                    async for chunk in r.aiter_bytes():
                        excerpt += chunk
                        if len(excerpt) >= EXCERPT_BYTES:
                            break
                    status = r.status_code
                    retry_after = parse_retry_after(r.headers.get("retry-after"))
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            return Outcome(
                status_code=None,
                error=_describe(exc),
                duration_ms=(time.perf_counter() - started) * 1000,
                excerpt=None,
            )
        return Outcome(
            status_code=status,
            error=None,
            duration_ms=(time.perf_counter() - started) * 1000,
            excerpt=bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", "replace") or None,
            retry_after=retry_after if status in {429, 503} else None,
        )
