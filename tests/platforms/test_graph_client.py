"""GraphClient through httpx.MockTransport: error mapping, retries, paging, usage, redaction."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from service.platforms.errors import (
    PermissionMissing,
    PlatformBadRequest,
    PlatformError,
    PlatformNotFound,
    PlatformUnavailable,
    RateLimited,
    TokenInvalid,
)
from service.platforms.graph import redact
from tests.platforms.support import TOKEN, make_client


def graph_error(
    status: int, code: int, message: str = "boom", subcode: int | None = None, **headers: str
) -> httpx.Response:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "Atrace"
    return httpx.Response(status, json={"error": error}, headers=headers)


def comment(n: int) -> dict[str, Any]:
    return {
        "id": f"1_{n}",
        "message": f"comment {n}",
        "from": {"id": "9", "name": "Customer"},
        "created_time": "2025-01-01T10:00:00+0000",
        "is_hidden": False,
        "can_hide": True,
    }


@pytest.mark.parametrize(
    ("response", "expected", "check"),
    [
        (graph_error(400, 190, "Session has expired", 463), TokenInvalid, {"subcode": 463}),
        (graph_error(401, 102, "Session key invalid"), TokenInvalid, {"code": 102}),
        (graph_error(403, 4, "(#4) Application request limit reached"), RateLimited, {}),
        (graph_error(400, 17), RateLimited, {"code": 17}),
        (graph_error(400, 80001), RateLimited, {"code": 80001}),
        (
            graph_error(403, 200, "(#200) Requires pages_manage_engagement permission"),
            PermissionMissing,
            {"permission": "pages_manage_engagement"},
        ),
        (graph_error(400, 10, "(#10) Permission denied"), PermissionMissing, {"permission": None}),
        (graph_error(400, 100, "(#100) Invalid parameter"), PlatformBadRequest, {"code": 100}),
        (graph_error(400, 100, "Unsupported get request", 33), PlatformNotFound, {"subcode": 33}),
        (graph_error(404, 803, "(#803) Some of the aliases do not exist"), PlatformNotFound, {}),
        (httpx.Response(404, text="nope"), PlatformNotFound, {"code": None}),
    ],
)
@pytest.mark.asyncio
async def test_errors_map_to_the_hierarchy(
    response: httpx.Response, expected: type[PlatformError], check: dict[str, Any]
) -> None:
    client, sleeper = make_client(lambda request: response)
    with pytest.raises(expected) as caught:
        await client.get_comment("1_2", TOKEN)
    for name, value in check.items():
        assert getattr(caught.value, name) == value
    assert caught.value.status == response.status_code
    assert sleeper.sleeps == []  # none of these is retried


@pytest.mark.asyncio
async def test_rate_limit_retry_after_comes_from_the_usage_header() -> None:
    buc = {"123": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]}
    response = graph_error(400, 32, "(#32) Page request limit reached")
    response.headers["X-Business-Use-Case-Usage"] = json.dumps(buc)
    client, _ = make_client(lambda request: response)
    with pytest.raises(RateLimited) as caught:
        await client.get_comment("1_2", TOKEN)
    assert caught.value.retry_after == 12 * 60


@pytest.mark.asyncio
async def test_rate_limit_without_an_estimate_uses_retry_after_or_a_default() -> None:
    client, _ = make_client(lambda request: httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        await client.get_comment("1_2", TOKEN)
    assert caught.value.retry_after == 30
    client, _ = make_client(lambda request: graph_error(400, 613))
    with pytest.raises(RateLimited) as caught:
        await client.get_comment("1_2", TOKEN)
    assert caught.value.retry_after > 0


@pytest.mark.asyncio
async def test_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    answers = [graph_error(500, 1), graph_error(503, 2), httpx.Response(200, json=comment(2))]
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answers[len(calls) - 1]

    client, sleeper = make_client(handler, backoff_base=1.0)
    fetched = await client.get_comment("1_2", TOKEN)
    assert fetched.id == "1_2"
    assert len(calls) == 3
    assert len(sleeper.sleeps) == 2
    assert sleeper.sleeps[1] > sleeper.sleeps[0]


@pytest.mark.asyncio
async def test_5xx_gives_up_after_the_bounded_retries() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return graph_error(500, 1, "An unknown error has occurred.")

    client, sleeper = make_client(handler, max_retries=2, backoff_max=3.0)
    with pytest.raises(PlatformUnavailable):
        await client.hide_comment("1_2", TOKEN)
    assert len(calls) == 3
    assert all(s <= 3.0 for s in sleeper.sleeps)


@pytest.mark.asyncio
async def test_timeouts_are_retried_and_reported_without_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out reading {request.url}", request=request)

    client, sleeper = make_client(handler, max_retries=1)
    with pytest.raises(PlatformUnavailable) as caught:
        await client.get_comment("1_2", TOKEN)
    assert len(sleeper.sleeps) == 1
    assert TOKEN not in str(caught.value)
    assert "access_token=***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.asyncio
async def test_a_reply_is_not_retried_once_it_may_have_been_sent() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    client, _ = make_client(handler)
    with pytest.raises(PlatformUnavailable):
        await client.reply_to("1_2", TOKEN, "hello")
    assert len(calls) == 1

    answers: list[httpx.Response | Exception] = [
        httpx.ConnectError("refused"),
        graph_error(500, 1),
    ]
    calls.clear()

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = answers.pop(0) if answers else httpx.Response(200, json={"id": "1_3"})
        if isinstance(answer, Exception):
            raise answer
        return answer

    client, _ = make_client(flaky)
    with pytest.raises(PlatformUnavailable):  # the 500 may have posted: no retry
        await client.reply_to("1_2", TOKEN, "hello")
    assert len(calls) == 2  # but the refused connection was retried


@pytest.mark.asyncio
async def test_comments_follow_cursors_until_there_is_no_next() -> None:
    seen_after: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        seen_after.append(after)
        pages = {None: ([1, 2], "c1"), "c1": ([3, 4], "c2"), "c2": ([5], None)}
        items, cursor = pages[after]
        paging: dict[str, Any] = {"cursors": {"before": "b", "after": cursor or "last"}}
        if cursor:
            paging["next"] = f"https://graph.facebook.com/v21.0/x/comments?after={cursor}"
        return httpx.Response(200, json={"data": [comment(n) for n in items], "paging": paging})

    client, _ = make_client(handler)
    found = [c.id async for c in client.iter_comments("7_8", TOKEN)]
    assert found == ["1_1", "1_2", "1_3", "1_4", "1_5"]
    assert seen_after == [None, "c1", "c2"]

    items, cursor = await client.comments_page("7_8", TOKEN, after="c1")
    assert [c.id for c in items] == ["1_3", "1_4"] and cursor == "c2"
    assert all(c.post_id == "7_8" for c in items)
    items, cursor = await client.comments_page("7_8", TOKEN, after="c2")
    assert cursor is None


@pytest.mark.asyncio
async def test_list_pages_reads_tasks_and_instagram_account() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "instagram_business_account" in request.url.params["fields"]
        data = [
            {
                "id": "1",
                "name": "Lynnet",
                "access_token": "EAAPone",
                "tasks": ["MODERATE", "ANALYZE"],
                "instagram_business_account": {"id": "1784"},
            },
            {"id": "2", "name": "Other", "access_token": "EAAPtwo", "tasks": ["ANALYZE"]},
        ]
        return httpx.Response(200, json={"data": data, "paging": {"cursors": {"after": "x"}}})

    client, _ = make_client(handler)
    pages = await client.list_pages("EAAUuser")
    assert [(p.id, p.instagram_business_account_id, p.can_moderate) for p in pages] == [
        ("1", "1784", True),
        ("2", None, False),
    ]


@pytest.mark.asyncio
async def test_high_usage_slows_the_client_down() -> None:
    usage = {"value": 10}

    def handler(request: httpx.Request) -> httpx.Response:
        buc = {"555": [{"type": "pages", "call_count": usage["value"], "total_time": 5}]}
        headers = {
            "X-App-Usage": json.dumps({"call_count": 5, "total_cputime": 1, "total_time": 2}),
            "X-Business-Use-Case-Usage": json.dumps(buc),
        }
        return httpx.Response(200, json=comment(1), headers=headers)

    client, sleeper = make_client(handler)
    await client.get_comment("1_1", TOKEN)
    await client.get_comment("1_1", TOKEN)
    assert sleeper.sleeps == []
    assert client.usage.pages["555"].call_count == 10
    usage["value"] = 90
    await client.get_comment("1_1", TOKEN)  # learns 90 %
    await client.get_comment("1_1", TOKEN)  # the token belongs to page 555: slows down
    assert len(sleeper.sleeps) == 1
    half = sleeper.sleeps[0]
    assert 0 < half < client.throttle_max_sleep
    usage["value"] = 100
    await client.get_comment("1_1", TOKEN)
    await client.get_comment("1_1", TOKEN)
    assert sleeper.sleeps[-1] == client.throttle_max_sleep
    assert client.throttle_delay("other-page") == 0


@pytest.mark.asyncio
async def test_tokens_travel_as_graph_documents_and_carry_appsecret_proof() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True})

    client, _ = make_client(handler)
    await client.hide_comment("1_2", TOKEN)
    form = parse_qs(seen[0].content.decode())
    assert form["is_hidden"] == ["true"]
    assert form["access_token"] == [TOKEN]
    assert len(form["appsecret_proof"][0]) == 64
    assert "access_token" not in str(seen[0].url)

    await client.subscribe_app_webhook("https://wg.example/webhooks/meta", "vt")
    form = parse_qs(seen[1].content.decode())
    assert seen[1].url.path == "/v21.0/app/subscriptions"
    assert form["access_token"] == ["app|shh"]
    assert "appsecret_proof" not in form
    assert form["object"] == ["page"] and form["fields"] == ["feed"]


@pytest.mark.asyncio
async def test_authorize_url() -> None:
    client, _ = make_client(lambda request: httpx.Response(500))
    url = httpx.URL(
        client.build_authorize_url(
            "https://wg.example/cb", "st", ["pages_show_list", "pages_manage_engagement"]
        )
    )
    assert url.host == "www.facebook.com"
    assert url.path == "/v21.0/dialog/oauth"
    assert url.params["client_id"] == "app"
    assert url.params["scope"] == "pages_show_list,pages_manage_engagement"
    assert url.params["state"] == "st"
    assert url.params["redirect_uri"] == "https://wg.example/cb"


@pytest.mark.asyncio
async def test_code_exchange_errors_do_not_leak_the_secret_or_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return graph_error(
            400, 100, f"Bad request {request.url}", 36009
        )  # a message quoting the URL

    client, _ = make_client(handler)
    with pytest.raises(PlatformBadRequest) as caught:
        await client.exchange_code("THE-CODE", "https://wg.example/cb")
    text = str(caught.value) + repr(caught.value)
    assert "THE-CODE" not in text and "shh" not in text


@pytest.mark.asyncio
async def test_httpx_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    client, _ = make_client(lambda request: httpx.Response(200, json=comment(1)))
    with caplog.at_level(logging.INFO, logger="httpx"):
        await client.get_comment("1_1", TOKEN)
    assert caplog.records, "httpx logs each request at INFO"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_redact() -> None:
    text = "GET /v21.0/me?access_token=abc&fields=id&client_secret=xyz&code=q&postal_code=2100"
    assert redact(text) == (
        "GET /v21.0/me?access_token=***&fields=id&client_secret=***&code=***&postal_code=2100"
    )


@pytest.mark.asyncio
async def test_unexpected_body_shape_is_a_platform_error() -> None:
    client, _ = make_client(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(PlatformError):
        await client.get_comment("1_1", TOKEN)
