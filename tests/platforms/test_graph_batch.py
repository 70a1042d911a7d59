"""GraphClient.hide_comments through httpx.MockTransport: Graph batch requests of at most 50
operations, one result per comment id, and errors of the batch call itself."""

from __future__ import annotations

import hashlib
import hmac
import json
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
from service.platforms.graph import GRAPH_BATCH_LIMIT
from tests.platforms.support import APP_SECRET, TOKEN, make_client

pytestmark = pytest.mark.asyncio


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), keep_blank_values=True)


def operations(request: httpx.Request) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = json.loads(form(request)["batch"][0])
    return ops


def error_body(
    code: int, message: str = "boom", subcode: int | None = None, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "Atrace"
    error.update(extra)
    return {"error": error}


def answer(code: int, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    """One operation's answer as Graph writes it: the body is JSON *text*."""
    return {
        "code": code,
        "headers": [{"name": name.replace("_", "-"), "value": v} for name, v in headers.items()],
        "body": json.dumps(body),
    }


OK = answer(200, {"success": True})


def all_succeed(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=[OK for _ in operations(request)])


def ids(n: int) -> list[str]:
    return [f"111_{i}" for i in range(n)]


# --- request shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (50, [50]), (51, [50, 1]), (120, [50, 50, 20])],
)
async def test_one_post_to_the_root_per_fifty_ids(count: int, sizes: list[int]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return all_succeed(request)

    client, sleeper = make_client(handler)
    comment_ids = ids(count)
    results = await client.hide_comments(comment_ids, TOKEN)

    assert results == [True] * count
    assert GRAPH_BATCH_LIMIT == 50
    assert [len(operations(r)) for r in seen] == sizes
    for request in seen:
        assert request.method == "POST"
        assert str(request.url) == "https://graph.facebook.com/"  # unversioned, no query
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    # Every id, in order, each as its own versioned operation.
    sent = [op for r in seen for op in operations(r)]
    assert sent == [
        {"method": "POST", "relative_url": f"v21.0/{cid}", "body": "is_hidden=true"}
        for cid in comment_ids
    ]
    assert sleeper.sleeps == []


async def test_batch_form_carries_the_token_proof_and_headers_flag() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return all_succeed(request)

    client, _ = make_client(handler, version="v22.0")
    assert await client.hide_comments(["1_2", "1_3"], TOKEN, hidden=False) == [True, True]
    [request] = seen
    fields = form(request)
    assert set(fields) == {"batch", "include_headers", "access_token", "appsecret_proof"}
    assert fields["include_headers"] == ["true"]
    assert fields["access_token"] == [TOKEN]
    expected_proof = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert fields["appsecret_proof"] == [expected_proof]
    assert TOKEN not in str(request.url)
    assert operations(request) == [
        {"method": "POST", "relative_url": "v22.0/1_2", "body": "is_hidden=false"},
        {"method": "POST", "relative_url": "v22.0/1_3", "body": "is_hidden=false"},
    ]


async def test_no_ids_make_no_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return all_succeed(request)

    client, _ = make_client(handler)
    assert await client.hide_comments([], TOKEN) == []
    assert seen == []


# --- per-operation results -------------------------------------------------------------------

REGAIN = json.dumps(
    {"111": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
)


@pytest.mark.parametrize(
    ("entry", "expected", "check"),
    [
        (answer(200, {"success": False}), False, {}),
        (None, PlatformUnavailable, {"status": None, "code": None}),
        (
            answer(400, error_body(100, "Unsupported post request", 33)),
            PlatformNotFound,
            {"status": 400, "code": 100, "subcode": 33},
        ),
        (
            answer(400, error_body(100, "(#100) The parameter is_hidden is required")),
            PlatformBadRequest,
            {"status": 400, "code": 100, "subcode": None},
        ),
        (
            answer(400, error_body(100, "(#100) own comments can't be hidden", 1446036)),
            PlatformBadRequest,
            {"subcode": 1446036},
        ),
        (
            answer(400, error_body(190, "Error validating access token", 460)),
            TokenInvalid,
            {"status": 400, "code": 190, "subcode": 460, "fbtrace_id": "Atrace"},
        ),
        (
            answer(403, error_body(4, "(#4) Application request limit reached")),
            RateLimited,
            {"status": 403, "code": 4, "retry_after": 60.0},
        ),
        (
            answer(
                403,
                error_body(32, "(#32) Page request limit reached"),
                X_Business_Use_Case_Usage=REGAIN,
            ),
            RateLimited,
            {"code": 32, "retry_after": 7 * 60.0},
        ),
        (
            answer(400, error_body(613, "(#613) Calls exceeded the rate limit"), Retry_After="30"),
            RateLimited,
            {"status": 400, "code": 613, "retry_after": 30.0},
        ),
        (answer(400, error_body(80001, "(#80001) Too many calls")), RateLimited, {}),
        (
            answer(403, error_body(200, "(#200) Requires pages_manage_engagement permission")),
            PermissionMissing,
            {"code": 200, "permission": "pages_manage_engagement"},
        ),
        (
            answer(500, error_body(1, "An unknown error has occurred.", is_transient=True)),
            PlatformUnavailable,
            {"status": 500, "code": 1},
        ),
        (
            {"code": 200, "body": "<html>proxy</html>"},
            PlatformError,
            {"status": None},
        ),
        ({"code": 200}, PlatformError, {}),  # no body at all
    ],
)
async def test_each_answer_maps_to_a_result(
    entry: dict[str, Any] | None, expected: bool | type[PlatformError], check: dict[str, Any]
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[entry])

    client, sleeper = make_client(handler)
    [result] = await client.hide_comments(["111_7"], TOKEN)

    if isinstance(expected, bool):
        assert result is expected
    else:
        assert type(result) is expected
        assert isinstance(result, PlatformError)
        for name, value in check.items():
            assert getattr(result, name) == value, name
        assert "POST /v21.0/111_7 (batch)" in str(result)
        assert TOKEN not in str(result) and TOKEN not in repr(result)
    # An operation's own failure is a result, never a retry of the whole batch.
    assert len(seen) == 1
    assert sleeper.sleeps == []


async def test_results_keep_the_order_of_the_ids_across_batches() -> None:
    """Answers are matched to ids by position, in every batch."""
    outcome = {
        "111_3": None,
        "111_10": answer(400, error_body(100, "Unsupported post request", 33)),
        "111_52": answer(400, error_body(190, "Session has expired", 463)),
        "111_55": answer(403, error_body(32, "(#32) Page request limit reached")),
        "111_59": answer(200, {"success": False}),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        entries = [
            outcome.get(op["relative_url"].split("/", 1)[1], OK) for op in operations(request)
        ]
        return httpx.Response(200, json=entries)

    client, _ = make_client(handler)
    comment_ids = ids(60)
    results = await client.hide_comments(comment_ids, TOKEN)

    assert len(results) == 60
    kinds = {
        cid: r if isinstance(r, bool) else type(r)
        for cid, r in zip(comment_ids, results, strict=True)
    }
    assert kinds["111_3"] is PlatformUnavailable
    assert kinds["111_10"] is PlatformNotFound
    assert kinds["111_52"] is TokenInvalid
    assert kinds["111_55"] is RateLimited
    assert kinds["111_59"] is False
    assert all(kinds[cid] is True for cid in comment_ids if cid not in outcome)
    for cid, result in zip(comment_ids, results, strict=True):
        if isinstance(result, PlatformError):
            assert f"/v21.0/{cid} (batch)" in str(result)


async def test_an_operation_error_quoting_the_token_is_redacted() -> None:
    leaky = error_body(190, f"Bad token in https://graph.example/x?access_token={TOKEN}&a=b")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[answer(400, leaky)])

    client, _ = make_client(handler)
    [result] = await client.hide_comments(["111_1"], TOKEN)
    assert isinstance(result, TokenInvalid)
    assert TOKEN not in str(result) and TOKEN not in repr(result)
    assert "access_token=***" in str(result)


@pytest.mark.parametrize(
    "body",
    [
        [OK, OK],  # fewer answers than operations
        [OK, OK, OK, OK],  # more
        [],
    ],
)
async def test_an_answer_count_mismatch_is_a_platform_error(body: list[Any]) -> None:
    client, sleeper = make_client(lambda request: httpx.Response(200, json=body))
    with pytest.raises(PlatformError) as caught:
        await client.hide_comments(["111_1", "111_2", "111_3"], TOKEN)
    assert type(caught.value) is PlatformError
    assert f"{len(body)} answers for 3 operations" in str(caught.value)
    assert sleeper.sleeps == []


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>proxy</html>"),
        httpx.Response(200, json={"success": True}),  # not a list
        httpx.Response(200, json=[{"body": "{}"}]),  # an answer without a code
    ],
)
async def test_an_unreadable_batch_answer_is_a_platform_error(response: httpx.Response) -> None:
    client, _ = make_client(lambda request: response)
    with pytest.raises(PlatformError) as caught:
        await client.hide_comments(["111_1"], TOKEN)
    assert type(caught.value) is PlatformError
    assert TOKEN not in str(caught.value)


# --- errors of the batch call itself ---------------------------------------------------------


async def test_a_failing_batch_call_is_retried_then_platform_unavailable() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500, json=error_body(1, "An unknown error has occurred."))

    client, sleeper = make_client(handler, max_retries=2, backoff_base=1.0)
    with pytest.raises(PlatformUnavailable) as caught:
        await client.hide_comments(ids(3), TOKEN)
    assert len(seen) == 3  # the first try and max_retries retries
    assert len(sleeper.sleeps) == 2 and sleeper.sleeps[1] > sleeper.sleeps[0]
    assert all(r.content == seen[0].content for r in seen)  # the same batch each time
    assert caught.value.status == 500
    assert "POST / (batch)" in str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


async def test_a_transient_batch_failure_is_retried_then_succeeds() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(503, json=error_body(2, "Service temporarily unavailable"))
        if len(seen) == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return all_succeed(request)

    client, sleeper = make_client(handler)
    assert await client.hide_comments(ids(2), TOKEN) == [True, True]
    assert len(seen) == 3 and len(sleeper.sleeps) == 2


async def test_a_timeout_quoting_the_token_is_reported_without_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out {request.url}?access_token={TOKEN}", request=request)

    client, _ = make_client(handler, max_retries=1)
    with pytest.raises(PlatformUnavailable) as caught:
        await client.hide_comments(ids(1), TOKEN)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


async def test_a_refused_token_on_the_batch_call_raises_token_invalid() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            400,
            json=error_body(190, f"Session has expired for /me?access_token={TOKEN}", 463),
        )

    client, sleeper = make_client(handler)
    with pytest.raises(TokenInvalid) as caught:
        await client.hide_comments(ids(120), TOKEN)
    assert caught.value.code == 190 and caught.value.subcode == 463
    assert len(seen) == 1 and sleeper.sleeps == []  # no retry, and no later batch
    assert "POST / (batch)" in str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


async def test_a_rate_limit_on_the_batch_call_raises_rate_limited() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            json=error_body(4, "(#4) Application request limit reached"),
            headers={"Retry-After": "90"},
        )

    client, sleeper = make_client(handler)
    with pytest.raises(RateLimited) as caught:
        await client.hide_comments(ids(2), TOKEN)
    assert caught.value.retry_after == 90.0 and caught.value.status == 403
    assert sleeper.sleeps == []


async def test_a_failure_in_a_later_batch_raises_after_the_earlier_batch_was_sent() -> None:
    """Hides are idempotent: the caller may repeat the whole call after an error."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 2:
            return httpx.Response(400, json=error_body(190, "Session has expired", 463))
        return all_succeed(request)

    client, _ = make_client(handler)
    with pytest.raises(TokenInvalid):
        await client.hide_comments(ids(60), TOKEN)
    assert [len(operations(r)) for r in seen] == [50, 10]


async def test_usage_reported_on_the_batch_answer_is_recorded() -> None:
    buc = {"111": [{"type": "pages", "call_count": 91, "total_time": 10, "total_cputime": 10}]}

    def handler(request: httpx.Request) -> httpx.Response:
        response = all_succeed(request)
        response.headers["X-App-Usage"] = json.dumps({"call_count": 12})
        response.headers["X-Business-Use-Case-Usage"] = json.dumps(buc)
        return response

    client, _ = make_client(handler)
    assert await client.hide_comments(ids(2), TOKEN) == [True, True]
    usage = client.usage_for("111")
    assert usage is not None and usage.call_count == 91
    assert client.usage.app is not None and client.usage.app.call_count == 12
    assert client.throttle_delay("111") > 0
