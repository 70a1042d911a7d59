"""Registering the app's webhook: page feeds and Instagram comments, one Graph call each."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from service.connections.graph import subscribe_app_webhooks
from service.platforms.graph import GraphClient

pytestmark = [pytest.mark.asyncio]


async def _no_sleep(_: float) -> None:
    return None


async def test_both_objects_are_registered_on_the_one_callback() -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/v21.0/app/subscriptions"
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(200, json={"success": True})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with GraphClient(app_id="app", app_secret="shh", http=http, sleep=_no_sleep) as graph:
        problems = await subscribe_app_webhooks(graph, "https://wg.example/webhooks/meta", "vt")

    assert problems == {"page": None, "instagram": None}
    assert [(f["object"], f["fields"]) for f in seen] == [
        (["page"], ["feed"]),
        (["instagram"], ["comments"]),
    ]
    assert {f["callback_url"][0] for f in seen} == {"https://wg.example/webhooks/meta"}
    assert {f["verify_token"][0] for f in seen} == {"vt"}


async def test_a_refused_object_is_reported_and_does_not_stop_the_other() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if parse_qs(request.content.decode())["object"] == ["page"]:
            error = {"message": "(#100) Invalid object", "type": "OAuthException", "code": 100}
            return httpx.Response(400, json={"error": error})
        return httpx.Response(200, json={"success": True})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with GraphClient(app_id="app", app_secret="shh", http=http, sleep=_no_sleep) as graph:
        problems = await subscribe_app_webhooks(graph, "https://wg.example/webhooks/meta", "vt")

    assert problems["instagram"] is None
    assert problems["page"] is not None and "Invalid object" in problems["page"]
