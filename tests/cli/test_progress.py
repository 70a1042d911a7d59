"""The CLI's scan watcher against a scripted API (httpx.MockTransport)."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import httpx
import pytest
from rich.console import Console

from service.cli.progress import ScanApiError, exit_code, start_scan, watch_scan

SCAN_ID = uuid.uuid4()
CONNECTION_ID = uuid.uuid4()


def scan(status: str, comments: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(SCAN_ID),
        "connection_id": str(CONNECTION_ID),
        "status": status,
        "since": None,
        "until": None,
        "posts_scanned": comments // 10,
        "comments_scanned": comments,
        "findings": comments // 5,
        "hidden": comments // 5,
        "errors": 0,
        "rate": 1234.5 if comments else None,
        "last_error": None,
        "requested_by": "api_key:x",
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": None,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        **extra,
    }


def scripted(states: list[dict[str, Any]], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(202, json=scan("pending", 0))
        return httpx.Response(200, json=states.pop(0) if len(states) > 1 else states[0])

    return httpx.Client(
        base_url="http://api.test",
        transport=httpx.MockTransport(handler),
        headers={"Authorization": "Bearer k"},
    )


def test_watch_until_the_scan_completes() -> None:
    seen: list[httpx.Request] = []
    states = [
        scan("pending", 0),
        scan("running", 500),
        scan("running", 900),
        scan("completed", 1000),
    ]
    out = io.StringIO()
    with scripted(states, seen) as http:
        started = start_scan("http://api.test", "k", CONNECTION_ID, since="2025-01-01", http=http)
        assert started.status == "pending"
        final = watch_scan(
            "http://api.test",
            "k",
            SCAN_ID,
            http=http,
            sleep=lambda _: None,
            console=Console(file=out, width=200),
        )
    assert final.status == "completed" and final.comments_scanned == 1000
    assert exit_code(final) == 0
    assert json.loads(seen[0].content) == {
        "connection_id": str(CONNECTION_ID),
        "since": "2025-01-01",
    }
    assert [r.url.path for r in seen[1:]] == [f"/v1/scans/{SCAN_ID}"] * 4
    assert "comments 1,000" in out.getvalue()


def test_stop_when_waiting_and_errors() -> None:
    seen: list[httpx.Request] = []
    waiting = scan("waiting", 300, last_error="Rate limited by the platform; resuming in 60 s.")
    with scripted([scan("running", 100), waiting], seen) as http:
        final = watch_scan(
            "http://api.test",
            "k",
            SCAN_ID,
            http=http,
            sleep=lambda _: None,
            stop_when_waiting=True,
            console=Console(file=io.StringIO()),
        )
    assert final.status == "waiting" and exit_code(final) == 3

    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "Scan not found."})

    http = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(missing))
    with http, pytest.raises(ScanApiError) as caught:
        watch_scan("http://api.test", "k", SCAN_ID, http=http, console=Console(file=io.StringIO()))
    assert caught.value.status == 404
