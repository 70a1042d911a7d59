"""Regression tests for what a fuzzer and a new user found (issue 13): every bad input is a clear
4xx problem+json that changes nothing stored, and every answer carries its request id."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.api import middleware, problems

PROBLEM = "application/problem+json"


def _is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    # Router-level answers too: the id in the body is the one in the header.
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_router_level_404_and_405_carry_the_request_id(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    _is_problem(await client.get("/no/such/path"), 404)
    _is_problem(await client.delete("/v1/tenant"), 405)
    mine = await client.get("/no/such/path", headers={"X-Request-ID": "trace-42"})
    assert _is_problem(mine, 404)["request_id"] == "trace-42"


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        def record(event: str, **fields: Any) -> None:
            self.events.append((level, event, fields))

        return record


async def test_a_client_that_went_away_is_logged_as_499_not_as_a_server_error(
    client: AsyncTestClient,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    access, errors = _Recorder(), _Recorder()
    monkeypatch.setattr(middleware, "log", access)
    monkeypatch.setattr(problems, "log", errors)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    # The webhook callback reads its body first (no key, no database): the client is gone by then.
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks/meta",
        "raw_path": b"/webhooks/meta",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"20"),
            (b"x-hub-signature-256", b"sha256=00"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await client.app(scope, receive, send)  # type: ignore[arg-type]
    assert [(e, f["status"]) for _, e, f in access.events] == [("request", 499)]
    assert errors.events == []
