"""Test helpers: a tiny webhook receiver (Meta's verification GET + signed POSTs).

Used by the sandbox's own tests and by end-to-end tests that need to see what the
sandbox delivers without running the whole API.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class WebhookReceiver:
    """Answers the ``hub.challenge`` when ``hub.verify_token`` matches; records POSTs.

    ``fail_next_posts`` makes the next N POSTs answer 500 (to exercise retries).
    """

    verify_token: str
    url: str = ""
    fail_next_posts: int = 0
    verifications: list[dict[str, str]] = field(default_factory=list)
    posts: list[Received] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Blocks until ``predicate()`` holds (checked on every request) or the timeout."""
        with self.condition:
            return self.condition.wait_for(predicate, timeout=timeout)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            with receiver.condition:
                receiver.verifications.append(query)
                receiver.condition.notify_all()
            ok = (
                query.get("hub.mode") == "subscribe"
                and query.get("hub.verify_token") == receiver.verify_token
            )
            body = query.get("hub.challenge", "").encode() if ok else b"forbidden"
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.condition:
                failing = receiver.fail_next_posts > 0
                if failing:
                    receiver.fail_next_posts -= 1
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.posts.append(Received(self.path, headers, body))
                receiver.condition.notify_all()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def webhook_receiver(verify_token: str, path: str = "/webhooks/meta") -> Iterator[WebhookReceiver]:
    """A receiver on a free loopback port, in a background thread."""
    receiver = WebhookReceiver(verify_token=verify_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
