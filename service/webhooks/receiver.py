"""A small webhook receiver that verifies with ``standardwebhooks``, as an agency's would.

``wallguard webhooks listen`` runs it and prints each event as it arrives (like ``stripe
listen``); the tests and the benchmark use the same class as their receiver on loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True, slots=True)
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    # The parsed body when a secret verified it, else None (``error`` says why).
    event: dict[str, Any] | None
    error: str | None


# What to answer: (status, headers, body). The default acknowledges with 204.
Responder = Callable[[Received], tuple[int, dict[str, str], bytes]]


def _acknowledge(received: Received) -> tuple[int, dict[str, str], bytes]:
    if received.event is None:
        return 400, {"content-type": "text/plain"}, (received.error or "invalid").encode()
    return 204, {}, b""


@dataclass
class WebhookListener:
    """An HTTP server on ``host:port`` (port 0: a free one) in a background thread."""

    secrets: Sequence[str]
    host: str = "127.0.0.1"
    port: int = 0
    on_event: Callable[[Received], None] | None = None
    respond: Responder = _acknowledge
    # A long-running `listen` prints and forgets; tests and benchmarks keep what arrived.
    keep_received: bool = True
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
        error = "no secret configured"
        for secret in self.secrets:
            try:
                event = Webhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                error = str(exc)
                continue
            if isinstance(event, dict):
                return event, ""
            error = "the body is not a JSON object"
        return None, error

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        event, error = self.verify(body, headers)
        received = Received(
            webhook_id=headers.get("webhook-id", ""),
            timestamp=headers.get("webhook-timestamp", ""),
            signature=headers.get("webhook-signature", ""),
            body=body,
            event=event,
            error=error or None,
        )
        if self.keep_received:
            with self._lock:
                self.received.append(received)
        if self.on_event is not None:
            self.on_event(received)
        status, extra, answer = self.respond(received)
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.send_header("content-length", str(len(answer)))
        handler.end_headers()
        if answer:
            handler.wfile.write(answer)

    def start(self) -> WebhookListener:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the sender pools connections

            def do_POST(self) -> None:
                listener._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-listener", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def verified(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.event is not None]


def describe(received: Received) -> str:
    """One line per event for the terminal: time, type, webhook-id and the data."""
    if received.event is None:
        return f"REJECTED webhook-id={received.webhook_id or '-'}: {received.error}"
    event = received.event
    data = msgspec.json.encode(event.get("data", {})).decode()
    return (
        f"{event.get('timestamp')}  {event.get('type')}  webhook-id={received.webhook_id}  {data}"
    )
