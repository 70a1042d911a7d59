"""The commands a new user runs, as real processes against a real, empty database."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import httpx
import pytest

from service.sandbox import RunningSandbox, SandboxConfig
from tests.conftest import create_database, drop_database
from tests.helpers import free_port, start_wallguard, wait_http, wallguard
from tests.sandbox.receiver import webhook_receiver


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    name = f"wallguard_cli_{os.getpid()}"
    url = await create_database(name)
    yield url
    await drop_database(name)


async def test_migrate_create_tenant_serve(empty_database: str) -> None:
    env = {
        "DATABASE_URL": empty_database,
        "WALLGUARD_ENV": "test",
        "WALLGUARD_LOG_LEVEL": "WARNING",
    }
    migrated = wallguard("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    again = wallguard("migrate", env=env)  # idempotent
    assert again.returncode == 0, again.stderr

    created = wallguard("tenants", "create", "Acme Telecom", "--json", env=env)
    assert created.returncode == 0, created.stderr
    payload = json.loads(created.stdout)
    assert set(payload) == {"tenant_id", "api_key"}
    assert payload["api_key"] not in created.stderr

    bad = wallguard("tenants", "create", "  ", "--json", env=env)
    assert bad.returncode != 0
    assert "NAME" in bad.stderr

    port = free_port()
    server = start_wallguard("serve", "--port", str(port), env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", server)
        r = httpx.get(
            f"http://127.0.0.1:{port}/v1/tenant",
            headers={"Authorization": f"Bearer {payload['api_key']}"},
        )
        assert r.status_code == 200
        assert r.json()["id"] == payload["tenant_id"]
        assert r.json()["name"] == "Acme Telecom"
    finally:
        logs = server.stop()
    assert payload["api_key"] not in logs


def test_openapi_command_writes_the_document(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "openapi.json"
    result = wallguard("openapi", "--output", str(out), env={"WALLGUARD_ENV": "test"})
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["info"]["title"] == "Wallguard API"
    assert "/v1/clients" in doc["paths"]


def test_meta_subscribe_webhook_registers_page_feeds_and_instagram_comments() -> None:
    config = SandboxConfig(app_id="cli-app", app_secret="cli-secret", pages=1)
    with RunningSandbox(config) as sandbox, webhook_receiver("cli-verify") as receiver:
        env = {
            "WALLGUARD_ENV": "test",
            "META_APP_ID": "cli-app",
            "META_APP_SECRET": "cli-secret",
            "META_WEBHOOK_VERIFY_TOKEN": "cli-verify",
            "META_GRAPH_URL": sandbox.url,
            "WALLGUARD_PUBLIC_URL": receiver.url.removesuffix("/webhooks/meta"),
        }
        done = wallguard("meta", "subscribe-webhook", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"page webhook registered: {receiver.url}" in done.stdout
        assert f"instagram webhook registered: {receiver.url}" in done.stdout
        subscriptions = sandbox.store.app_subscriptions
        assert {o: (s.callback_url, s.fields) for o, s in subscriptions.items()} == {
            "page": (receiver.url, ["feed"]),
            "instagram": (receiver.url, ["comments"]),
        }

        receiver.verify_token = "something-else"  # the handshake fails: nothing is registered
        refused = wallguard("meta", "subscribe-webhook", env=env)
        assert refused.returncode == 1
        assert refused.stdout.count("NOT registered") == 2
