"""Webhook delivery, as Meta does it: batched, signed, late on demand, retried.

A background task in the sandbox process wakes when events are queued (or every
``poll_seconds``), takes the events whose delay has passed, separates them by object (``page``
feed changes, ``instagram`` comments: one object per body, each to the callback of the app's
subscription for it), groups them per page or Instagram account into ``entry`` items (several
``changes`` each), splits them into POSTs of at most ``max_batch`` changes, and signs each raw
body with ``X-Hub-Signature-256``. A failed POST (non-2xx or transport error) is retried with
exponential backoff up to ``max_attempts`` times.

The sandbox is the benchmarks' measuring instrument, so delivery is kept cheap: one HTTP client
for the deliverer's life with a pool of ``webhook_max_connections`` kept-alive connections (a
new TCP connection per POST cost the sandbox more than the request), as many deliveries in
flight (the rest wait their turn, as at Meta), and no per-request log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx

from service.platforms.signatures import SIGNATURE_HEADER, sign_body
from service.sandbox.config import SandboxConfig
from service.sandbox.state import Store, WebhookEvent


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Compact JSON with non-ASCII escaped as \\uXXXX, like the bodies Meta signs."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def build_payloads(events: list[WebhookEvent], max_batch: int, now: int) -> list[dict[str, Any]]:
    """Events -> ``{"object": ..., "entry": [...]}`` bodies of at most ``max_batch`` changes,
    one object per body (objects in the order they first occur)."""
    by_object: dict[str, list[WebhookEvent]] = {}
    for event in events:
        by_object.setdefault(event.object, []).append(event)
    size = max(1, max_batch)
    payloads: list[dict[str, Any]] = []
    for object_type, group in by_object.items():
        for start in range(0, len(group), size):
            entries: dict[str, dict[str, Any]] = {}
            for event in group[start : start + size]:
                entry = entries.setdefault(
                    event.entry_id, {"id": event.entry_id, "time": now, "changes": []}
                )
                entry["changes"].append({"field": event.field, "value": event.value})
            payloads.append({"object": object_type, "entry": list(entries.values())})
    return payloads


def delivery_client(config: SandboxConfig) -> httpx.AsyncClient:
    """The deliverer's client: every connection it may open is kept alive between deliveries.

    Waiting for a free connection has no timeout (those deliveries queue at "Meta"); connecting,
    sending and the callback's answer have ``webhook_timeout_seconds``."""
    connections = max(1, config.webhook_max_connections)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(config.webhook_timeout_seconds, pool=None),
        limits=httpx.Limits(
            max_connections=connections,
            max_keepalive_connections=connections,
            # Below uvicorn's 5 s keep-alive: an idle connection is dropped here before the
            # callback closes it under a POST (which would count as a failed delivery).
            keepalive_expiry=4.0,
        ),
    )


class WebhookDeliverer:
    def __init__(
        self,
        store: Store,
        *,
        http_factory: Callable[[], httpx.AsyncClient] | None = None,
        poll_seconds: float = 0.05,
    ) -> None:
        self.store = store
        self._http_factory = http_factory or (lambda: delivery_client(store.config))
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        # Deliveries past the pool's size wait here, not in httpcore's pool: its queue costs
        # O(queued x connections) per request, quadratic once a slow callback lets thousands
        # of deliveries pile up (it took most of the sandbox's CPU in benchmarks).
        self._slots = asyncio.Semaphore(1)  # sized in start(), on the loop that uses it

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.store.wakeup = self._wakeup_threadsafe
        self._http = self._http_factory()
        self._slots = asyncio.Semaphore(max(1, self.store.config.webhook_max_connections))
        self._task = asyncio.create_task(self._run(), name="sandbox-webhooks")

    async def stop(self) -> None:
        self.store.wakeup = lambda: None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        await self._http.aclose()

    def _wakeup_threadsafe(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
            # Let a burst of changes made in the same moment land in one batch.
            await asyncio.sleep(0.01)
            events = self.store.take_due_events()
            if not events:
                continue
            now = int(self.store.now())
            for payload in build_payloads(events, self.store.webhook_max_batch, now):
                subscription = self.store.app_subscriptions.get(payload["object"])
                if subscription is None:  # unsubscribed while the events waited
                    continue
                task = asyncio.create_task(self._deliver(subscription.callback_url, payload))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    async def _deliver(self, callback_url: str, payload: dict[str, Any]) -> None:
        body = encode_payload(payload)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_body(self.store.config.app_secret, body),
            "User-Agent": "facebookexternalua",
        }
        changes = sum(len(e["changes"]) for e in payload["entry"])
        attempts = max(1, self.store.webhook_max_attempts)
        for attempt in range(1, attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                async with self._slots:
                    response = await self._http.post(
                        self.store.config.reach(callback_url), content=body, headers=headers
                    )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            self.store.record_delivery(
                callback_url=callback_url,
                attempt=attempt,
                status=status,
                error=error,
                entries=len(payload["entry"]),
                changes=changes,
                body=body.decode("ascii"),
            )
            if status is not None and 200 <= status < 300:
                return
            if attempt < attempts:
                delay = self.store.config.webhook_retry_base_seconds * 2 ** (attempt - 1)
                await asyncio.sleep(delay)
