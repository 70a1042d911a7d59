"""Graph batch requests (``POST /`` with ``batch=[...]``) on the sandbox served over real HTTP:
every operation is its own call (token check, faults, usage, call log), answered in order."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from service.platforms.errors import PlatformError, PlatformNotFound, RateLimited
from service.platforms.graph import GraphClient
from service.sandbox import RunningSandbox

pytestmark = [pytest.mark.asyncio, pytest.mark.e2e]

VERSION = "v21.0"


async def page_with_token(control: httpx.AsyncClient, index: int = 0) -> tuple[str, str]:
    pages = (await control.get("/_sandbox/pages")).json()
    page_id: str = pages[index]["id"]
    issued = await control.post(f"/_sandbox/pages/{page_id}/tokens")
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["access_token"]
    return page_id, token


async def add_comments(control: httpx.AsyncClient, page_id: str, count: int) -> list[str]:
    post = (await control.post(f"/_sandbox/pages/{page_id}/posts", json={"message": "Hej"})).json()
    ids: list[str] = []
    for n in range(count):
        created = await control.post(
            f"/_sandbox/objects/{post['id']}/comments",
            json={"author_name": f"Customer {n}", "message": f"comment {n}"},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def hide(comment_id: str, hidden: bool = True) -> dict[str, str]:
    return {
        "method": "POST",
        "relative_url": f"{VERSION}/{comment_id}",
        "body": f"is_hidden={'true' if hidden else 'false'}",
    }


async def post_batch(
    control: httpx.AsyncClient, token: str, ops: list[Any], **extra: str
) -> httpx.Response:
    data = {"batch": json.dumps(ops), "access_token": token, "include_headers": "true", **extra}
    return await control.post("/", data=data)


def headers_of(entry: dict[str, Any]) -> dict[str, str]:
    return {h["name"].lower(): h["value"] for h in entry.get("headers", [])}


def error_of(entry: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(entry["body"])["error"]
    return error


async def hidden_ids(control: httpx.AsyncClient, page_id: str) -> set[str]:
    hidden = (await control.get("/_sandbox/hidden", params={"page_id": page_id})).json()
    return {h["id"] for h in hidden}


async def calls(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = (await control.get("/_sandbox/calls")).json()
    return log


async def test_a_batch_of_hides_hides_every_comment_once(
    control: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    page_id, token = await page_with_token(control)
    comment_ids = await add_comments(control, page_id, 5)
    await control.delete("/_sandbox/calls")

    response = await post_batch(control, token, [hide(c) for c in comment_ids])

    assert response.status_code == 200, response.text
    answers = response.json()
    assert len(answers) == 5
    for entry in answers:
        assert entry["code"] == 200
        assert json.loads(entry["body"]) == {"success": True}  # the body is JSON text
        usage = headers_of(entry)
        assert json.loads(usage["x-app-usage"])["call_count"] >= 0
        assert page_id in json.loads(usage["x-business-use-case-usage"])
        assert not any(name.startswith("x-sandbox") for name in usage)
    # The usage after the batch is reported on the batch answer itself.
    assert "call_count" in json.loads(response.headers["X-App-Usage"])
    assert page_id in json.loads(response.headers["X-Business-Use-Case-Usage"])

    assert await hidden_ids(control, page_id) == set(comment_ids)
    for comment_id in comment_ids:
        state = (await control.get(f"/_sandbox/comments/{comment_id}")).json()
        assert state["is_hidden"] is True and state["hide_calls"] == 1

    # Each operation is logged as its own call, in order, without the token; the batch
    # envelope itself is not a Graph call of its own.
    log = await calls(control)
    assert [(c["method"], c["path"]) for c in log] == [
        ("POST", f"/{VERSION}/{c}") for c in comment_ids
    ]
    assert all(c["params"] == {"is_hidden": "true"} for c in log)
    assert all(c["status"] == 200 and c["page_id"] == page_id for c in log)

    # And the same batch unhides them.
    again = await post_batch(control, token, [hide(c, hidden=False) for c in comment_ids])
    assert [e["code"] for e in again.json()] == [200] * 5
    assert await hidden_ids(control, page_id) == set()


async def test_answers_leave_out_headers_when_asked(control: httpx.AsyncClient) -> None:
    page_id, token = await page_with_token(control)
    [comment_id] = await add_comments(control, page_id, 1)
    response = await post_batch(control, token, [hide(comment_id)], include_headers="false")
    assert response.json() == [{"code": 200, "body": json.dumps({"success": True})}]


async def test_an_unknown_comment_fails_alone(control: httpx.AsyncClient) -> None:
    page_id, token = await page_with_token(control)
    other_page, _ = await page_with_token(control, 1)
    first, second = await add_comments(control, page_id, 2)
    [foreign] = await add_comments(control, other_page, 1)
    await control.delete("/_sandbox/calls")

    ops = [hide(first), hide("123_456"), hide(foreign), hide(second)]
    response = await post_batch(control, token, ops)

    assert response.status_code == 200
    answers = response.json()
    assert [e["code"] for e in answers] == [200, 400, 400, 200]
    for entry in (answers[1], answers[2]):  # unknown, or not visible to this page's token
        error = error_of(entry)
        assert (error["code"], error["error_subcode"]) == (100, 33)
        assert error["type"] == "GraphMethodException" and error["fbtrace_id"]
    assert await hidden_ids(control, page_id) == {first, second}
    assert await hidden_ids(control, other_page) == set()
    log = await calls(control)
    assert [(c["status"], c["error_code"]) for c in log] == [
        (200, None),
        (400, 100),
        (400, 100),
        (200, None),
    ]


async def test_malformed_operations_fail_alone(control: httpx.AsyncClient) -> None:
    page_id, token = await page_with_token(control)
    [comment_id] = await add_comments(control, page_id, 1)
    await control.delete("/_sandbox/calls")

    ops: list[Any] = [
        {"method": "POST"},  # no relative_url
        "not an operation",
        {"method": "PUT", "relative_url": f"{VERSION}/{comment_id}", "body": "is_hidden=true"},
        {"method": "POST", "relative_url": f"{VERSION}/{comment_id}/a/b", "body": "x=1"},
        hide(comment_id),
    ]
    response = await post_batch(control, token, ops)

    assert response.status_code == 200
    answers = response.json()
    assert [e["code"] for e in answers] == [400, 400, 400, 400, 200]
    assert all(error_of(e)["code"] == 100 for e in answers[:4])
    for entry in answers:  # Graph's own headers only, never the sandbox's bookkeeping
        assert "x-app-usage" in headers_of(entry)
        assert not any(name.startswith("x-sandbox") for name in headers_of(entry))
    assert await hidden_ids(control, page_id) == {comment_id}
    assert len(await calls(control)) == len(ops)  # each counted as a call


async def test_more_than_fifty_operations_are_refused(control: httpx.AsyncClient) -> None:
    page_id, token = await page_with_token(control)
    [comment_id] = await add_comments(control, page_id, 1)
    await control.delete("/_sandbox/calls")

    response = await post_batch(control, token, [hide(comment_id)] * 51)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and "50" in error["message"]
    assert await hidden_ids(control, page_id) == set()
    assert not any(c["path"].startswith(f"/{VERSION}/") for c in await calls(control))

    fifty = await post_batch(control, token, [hide(comment_id)] * 50)  # the limit itself is fine
    assert fifty.status_code == 200
    assert [e["code"] for e in fifty.json()] == [200] * 50


@pytest.mark.parametrize(
    "batch",
    [None, "", "not json", "[]", '{"method": "GET", "relative_url": "me"}', "42"],
    ids=["missing", "empty", "not-json", "empty-list", "an-object", "a-number"],
)
async def test_a_missing_or_invalid_batch_param_is_refused(
    control: httpx.AsyncClient, batch: str | None
) -> None:
    _, token = await page_with_token(control)
    data = {"access_token": token}
    if batch is not None:
        data["batch"] = batch
    response = await control.post("/", data=data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and error["type"] == "OAuthException"
    assert "batch" in error["message"]


async def test_a_wrong_appsecret_proof_refuses_every_operation(
    control: httpx.AsyncClient,
) -> None:
    page_id, token = await page_with_token(control)
    comment_ids = await add_comments(control, page_id, 2)
    response = await post_batch(
        control, token, [hide(c) for c in comment_ids], appsecret_proof="0" * 64
    )
    assert [(e["code"], error_of(e)["code"]) for e in response.json()] == [(400, 100)] * 2
    assert await hidden_ids(control, page_id) == set()


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"kind": "rate_limit", "code": 32, "regain_minutes": 7}, 403, 32),
        ({"kind": "rate_limit", "code": 613}, 400, 613),
        ({"kind": "server_error", "http_status": 503}, 503, 2),
        ({"kind": "server_error"}, 500, 1),
    ],
    ids=["rate-limit-32", "rate-limit-613", "server-error-503", "server-error-500"],
)
async def test_a_counted_fault_fails_the_operations_it_fires_on(
    control: httpx.AsyncClient, fault: dict[str, Any], status: int, code: int
) -> None:
    page_id, token = await page_with_token(control)
    comment_ids = await add_comments(control, page_id, 5)
    # Skips the first operation, then fails the next two.
    added = await control.post(
        "/_sandbox/faults", json={**fault, "page_id": page_id, "after_calls": 1, "count": 2}
    )
    assert added.status_code == 201, added.text
    await control.delete("/_sandbox/calls")

    response = await post_batch(control, token, [hide(c) for c in comment_ids])

    assert response.status_code == 200  # the batch itself went through
    answers = response.json()
    assert [e["code"] for e in answers] == [200, status, status, 200, 200]
    for entry in answers[1:3]:
        error = error_of(entry)
        assert error["code"] == code and error["is_transient"] is True
    if fault["kind"] == "rate_limit":
        usage = headers_of(answers[1])
        assert json.loads(usage["x-app-usage"])["call_count"] == 100
        [buc] = json.loads(usage["x-business-use-case-usage"])[page_id]
        assert buc["call_count"] == 100
        assert buc["estimated_time_to_regain_access"] == fault.get("regain_minutes", 5)
    expected_hidden = {comment_ids[0], *comment_ids[3:]}
    assert await hidden_ids(control, page_id) == expected_hidden
    log = await calls(control)
    assert [(c["status"], c["error_code"]) for c in log] == [
        (200, None),
        (status, code),
        (status, code),
        (200, None),
        (200, None),
    ]
    [state] = (await control.get("/_sandbox/faults")).json()
    assert state["seen"] == 5 and state["remaining"] == 0


async def test_an_expired_token_fault_fails_its_operation_and_every_later_one(
    control: httpx.AsyncClient,
) -> None:
    page_id, token = await page_with_token(control)
    comment_ids = await add_comments(control, page_id, 4)
    await control.post(
        "/_sandbox/faults",
        json={"kind": "expire_token", "page_id": page_id, "after_calls": 1, "count": 1},
    )

    response = await post_batch(control, token, [hide(c) for c in comment_ids])

    answers = response.json()
    assert [e["code"] for e in answers] == [200, 400, 400, 400]
    # The fault invalidates the session; the token then stays expired, as on Graph.
    assert [(error_of(e)["code"], error_of(e)["error_subcode"]) for e in answers[1:]] == [
        (190, 460),
        (190, 463),
        (190, 463),
    ]
    assert "www-authenticate" in headers_of(answers[1])
    assert await hidden_ids(control, page_id) == {comment_ids[0]}


# --- end to end: GraphClient.hide_comments on the sandbox --------------------------------------


async def test_hide_comments_hides_sixty_comments_in_two_batches(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page_id, token = await page_with_token(control)
    comment_ids = await add_comments(control, page_id, 60)
    await control.delete("/_sandbox/calls")

    results = await graph.hide_comments(comment_ids, token)

    assert results == [True] * 60
    hidden = (await control.get("/_sandbox/hidden", params={"page_id": page_id})).json()
    assert sorted(h["id"] for h in hidden) == sorted(comment_ids)
    assert all(h["hide_calls"] == 1 for h in hidden)
    log = await calls(control)
    assert [c["path"] for c in log] == [f"/{VERSION}/{c}" for c in comment_ids]
    assert all(c["status"] == 200 for c in log)  # the appsecret_proof was accepted too
    usage = graph.usage_for(page_id)
    assert usage is not None  # read from the batch answer

    assert await graph.hide_comments(comment_ids, token, hidden=False) == [True] * 60
    assert await hidden_ids(control, page_id) == set()


async def test_hide_comments_reports_each_operation_failure_on_the_sandbox(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page_id, token = await page_with_token(control)
    comment_ids = await add_comments(control, page_id, 3)
    await control.post(
        "/_sandbox/faults",
        json={
            "kind": "rate_limit",
            "page_id": page_id,
            "code": 32,
            "count": 1,
            "regain_minutes": 3,
        },
    )

    results = await graph.hide_comments([comment_ids[0], "123_456", *comment_ids[1:]], token)

    limited, missing, *rest = results
    assert isinstance(limited, RateLimited) and limited.code == 32
    assert limited.retry_after == 3 * 60
    assert isinstance(missing, PlatformNotFound) and missing.subcode == 33
    assert rest == [True, True]
    assert all(token not in str(r) for r in results if isinstance(r, PlatformError))
    assert await hidden_ids(control, page_id) == set(comment_ids[1:])
