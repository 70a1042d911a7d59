"""Regression tests for what a fuzzer and a new user found (issue 13): every bad input is a clear
4xx problem+json that changes nothing stored, and every answer carries its request id."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.api import middleware, problems
from service.api.app import create_app
from service.platforms.signatures import SIGNATURE_HEADER, sign_body
from tests.conftest import MakeTenant, make_settings

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
    _is_problem(await client.put("/v1/stats"), 405)
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
    await client.app(scope, receive, send)
    assert [(e, f["status"]) for _, e, f in access.events] == [("request", 499)]
    assert errors.events == []


NUL = "a\u0000b"


async def test_a_nul_in_any_stored_string_is_refused_and_nothing_changes(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    h = t.headers
    created = await client.post("/v1/clients", json={"name": "Telco"}, headers=h)
    client_id = created.json()["id"]
    policy = f"/v1/clients/{client_id}/policy"
    # The reads go with a second key: one key may send 20 requests a second.
    reader_key = await client.post(
        "/v1/api-keys", json={"name": "r", "scopes": ["admin"]}, headers=h
    )
    r = {"Authorization": f"Bearer {reader_key.json()['secret']}"}
    before = {
        path: (await client.get(path, headers=r)).json()
        for path in ("/v1/tenant", f"/v1/clients/{client_id}", policy, "/v1/api-keys")
    }
    refused = [
        ("POST", "/v1/clients", {"name": NUL}, "$.name"),
        ("POST", "/v1/clients", {"name": "x", "external_ref": NUL}, "$.external_ref"),
        ("POST", "/v1/clients", {"name": "x", "private_channel_url": "https://a\u0000"}, None),
        ("PATCH", f"/v1/clients/{client_id}", {"name": NUL}, "$.name"),
        ("PATCH", f"/v1/clients/{client_id}", {"external_ref": NUL}, "$.external_ref"),
        ("PATCH", "/v1/tenant", {"name": NUL}, "$.name"),
        ("POST", "/v1/api-keys", {"name": NUL, "scopes": ["read"]}, "$.name"),
        ("PUT", policy, {"allowlist": ["+45 70 10 20 30", NUL]}, "$.allowlist[1]"),
        ("PUT", policy, {"custom_patterns": [{"name": NUL, "pattern": "KN-\\d{6}"}]}, None),
        ("PUT", policy, {"custom_patterns": [{"name": "kn", "pattern": "KN\u0000"}]}, None),
        (
            "PUT",
            policy,
            {"reply_templates": {"da": "Skriv til os \u0000"}},
            "$.reply_templates[...]",
        ),
    ]
    for method, path, body, field in refused:
        response = await client.request(method, path, json=body, headers=h)
        problem = _is_problem(response, 422)
        assert "NUL" in problem["detail"], (path, body, problem)
        if field is not None:
            assert [e["field"] for e in problem["errors"]] == [field], problem
    after = {path: (await client.get(path, headers=r)).json() for path in before}
    assert after == before
    names = [c["name"] for c in (await client.get("/v1/clients", headers=r)).json()["items"]]
    assert names == ["Telco"]
    # The document says so: the pattern is on the field.
    spec = (await client.get("/schema/openapi.json")).json()
    name = spec["components"]["schemas"]["ClientCreate"]["properties"]["name"]
    assert "\\x00" in name["pattern"]


async def test_scan_bounds_refuse_year_one(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    for body in (
        {"connection_id": "00000000-0000-0000-0000-000000000000", "since": "0001-01-01T00:00:00Z"},
        {"connection_id": "00000000-0000-0000-0000-000000000000", "until": "9999-12-31T23:59:59Z"},
    ):
        problem = _is_problem(await client.post("/v1/scans", json=body, headers=t.headers), 422)
        assert "must lie between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z" in problem["detail"]


DEEP = b"[" * 1000 + b"]" * 1000
NOT_UTF8 = b'{"name":"\xff"}'


async def test_bodies_that_are_not_utf8_or_nested_1000_deep_are_400(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    created = (await client.post("/v1/clients", json={"name": "Telco"}, headers=t.headers)).json()
    operations = [
        ("POST", "/v1/clients"),
        ("PATCH", f"/v1/clients/{created['id']}"),
        ("PATCH", "/v1/tenant"),
        ("POST", "/v1/api-keys"),
        ("POST", "/v1/detect"),
        ("POST", "/v1/scans"),
        ("POST", "/v1/connections/oauth/start"),
        ("PUT", f"/v1/clients/{created['id']}/policy"),
    ]
    headers = {**t.headers, "Content-Type": "application/json"}
    for method, path in operations:
        for body in (NOT_UTF8, DEEP):
            response = await client.request(method, path, content=body, headers=headers)
            problem = _is_problem(response, 400)
            assert problem["title"] == "Malformed request body", (method, path, problem)
    names = [
        c["name"] for c in (await client.get("/v1/clients", headers=t.headers)).json()["items"]
    ]
    assert names == ["Telco"]


async def test_a_body_that_is_not_sent_as_json_is_415(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    body = b'{"name": "Telco"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = dict(t.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await client.post("/v1/clients", content=body, headers=headers)
        problem = _is_problem(response, 415)
        assert "Content-Type: application/json" in problem["detail"]
    assert (await client.get("/v1/clients", headers=t.headers)).json()["items"] == []
    # JSON with a charset, or a +json type, is JSON.
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        headers = {**t.headers, "Content-Type": content_type}
        patched = await client.patch(
            "/v1/tenant", content=b'{"retention_days": 90}', headers=headers
        )
        assert patched.status_code == 200, patched.text


async def test_options_without_a_key_lists_the_methods_everywhere(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    for path in (
        "/v1/api-keys",
        "/v1/api-keys/00000000-0000-0000-0000-000000000000",
        "/v1/clients",
        "/v1/tenant",
    ):
        response = await client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert "OPTIONS" in response.headers["allow"]
    # The guards still guard everything else.
    _is_problem(await client.get("/v1/api-keys"), 401)


async def test_time_filters_out_of_range_and_nul_filters_are_400(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    for path, params, field in (
        ("/v1/stats", {"until": "0001-01-01T00:00:00Z"}, "query.until"),
        ("/v1/stats", {"since": "9999-12-31T23:59:59"}, "query.since"),
        ("/v1/findings", {"since": "0001-01-01T00:00:00Z"}, "query.since"),
        ("/v1/audit-events", {"until": "0001-01-01T00:00:00+14:00"}, "query.until"),
        ("/v1/audit-events", {"action": "scan.\u0000"}, "query.action"),
        ("/v1/audit-events", {"subject_type": "\u0000"}, "query.subject_type"),
        ("/v1/audit-events", {"subject_id": "a\u0000"}, "query.subject_id"),
    ):
        problem = _is_problem(await client.get(path, params=params, headers=t.headers), 400)
        assert [e["field"] for e in problem["errors"]] == [field], (path, problem)
    # In range, with or without a zone: answered.
    for params in ({"until": "2026-01-01T00:00:00Z"}, {"since": "2026-01-01T00:00:00"}):
        assert (await client.get("/v1/stats", params=params, headers=t.headers)).status_code == 200


async def test_a_signed_webhook_body_that_is_not_utf8_nested_or_with_nul_ids_is_400(
    database_url: str,
) -> None:
    secret = "webhook-test-secret"
    app = create_app(make_settings(database_url, META_APP_SECRET=secret))
    bodies = [
        NOT_UTF8,
        DEEP,
        b'{"object": "page", "entry": [{"id": "1\\u0000", "changes": '
        b'[{"field": "feed", "value": {"comment_id": "1_2"}}]}]}',
        b'{"object": "page", "entry": [{"id": "1", "changes": '
        b'[{"field": "feed", "value": {"comment_id": "1_\\u0000"}}]}]}',
    ]
    async with AsyncTestClient(app=app) as signed_client:
        for body in bodies:
            response = await signed_client.post(
                "/webhooks/meta",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign_body(secret, body),
                },
            )
            problem = _is_problem(response, 400)
            assert "not a Meta delivery" in problem["detail"], (body, problem)


async def test_enum_errors_list_the_allowed_values_and_unknown_countries_are_refused(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    h = t.headers
    cases = [
        ("POST", "/v1/api-keys", {"name": "k", "scopes": ["bogus"]}, 422, "admin, read, detect"),
        ("POST", "/v1/detect", {"text": "x", "lang": "xx"}, 422, "da, de, fi, sv, nb, en"),
        ("GET", "/v1/findings?type=FOO", None, 400, "EMAIL_ADDRESS, PHONE_NUMBER"),
        ("POST", "/v1/detect", {"text": "x", "region": "XX"}, 422, "such as DK, DE, FI"),
        ("POST", "/v1/clients", {"name": "c", "country": "XX"}, 422, "such as DK, DE, FI"),
    ]
    for method, path, body, status, listed in cases:
        problem = _is_problem(await client.request(method, path, json=body, headers=h), status)
        assert listed in problem["detail"], (path, problem)
    assert (await client.get("/v1/clients", headers=h)).json()["items"] == []
    # A real country that is not one of the main markets is still a country.
    ok = await client.post("/v1/detect", json={"text": "x", "region": "NL"}, headers=h)
    assert ok.status_code == 200, ok.text


async def test_outbound_webhook_inputs_refuse_nul_and_year_one(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    t = await make_tenant()
    h = t.headers
    for body in (
        {"url": "https://hooks.example.com/\u0000"},
        {"url": "https://hooks.example.com/x", "description": "a\u0000b"},
    ):
        problem = _is_problem(await client.post("/v1/webhook-endpoints", json=body, headers=h), 422)
        assert "NUL" in problem["detail"] or "URL" in problem["detail"], problem
    assert (await client.get("/v1/webhook-endpoints", headers=h)).json()["items"] == []
    replay = await client.post(
        "/v1/webhook-endpoints/00000000-0000-0000-0000-000000000000/replay",
        json={"since": "0001-01-01T00:00:00Z"},
        headers=h,
    )
    assert "must lie between" in _is_problem(replay, 422)["detail"]
    listed = await client.get(
        "/v1/webhook-deliveries", params={"since": "0001-01-01T00:00:00Z"}, headers=h
    )
    assert [e["field"] for e in _is_problem(listed, 400)["errors"]] == ["query.since"]


async def test_a_missing_required_query_parameter_is_400(
    client: AsyncTestClient,  # type: ignore[type-arg]
    make_tenant: MakeTenant,
) -> None:
    """Found by the fuzzer: 422, which the document does not list for a query."""
    t = await make_tenant()
    response = await client.get("/v1/subject-data", params={"author_id": "123"}, headers=t.headers)
    assert "platform" in _is_problem(response, 400)["detail"]
