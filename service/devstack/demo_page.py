"""`wallguard dev`: connect the demo tenant's sandbox pages exactly as a tenant admin would, over
the public API (OAuth start -> consent -> callback), and register the app's webhook (page feeds
and Instagram comments) with the sandbox so comments flow in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from service.connections.graph import graph_client, subscribe_app_webhooks
from service.connections.service import webhook_url
from service.settings import Settings

if TYPE_CHECKING:
    from service.devstack.run import DevContext


async def connect_demo_pages(
    api_url: str, api_key: str, settings: Settings
) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as api:
        clients = (await api.get("/v1/clients")).raise_for_status().json()["items"]
        if clients:
            client_id = clients[0]["id"]
        else:
            created = await api.post("/v1/clients", json={"name": "Demo Telecom", "country": "DK"})
            client_id = created.raise_for_status().json()["id"]
        # Every run: the sandbox keeps its state in memory, so after a restart the stored tokens
        # are unknown to it and the app is no longer installed on its pages. Re-authorising is
        # what a tenant admin would do, and it is idempotent for the connections.
        started = await api.post("/v1/connections/oauth/start", json={"client_id": client_id})
        url = started.raise_for_status().json()["authorization_url"]
        # The sandbox's consent dialog approves at once and redirects to our callback.
        async with httpx.AsyncClient(timeout=30, follow_redirects=True) as browser:
            done = await browser.get(url)
        active: list[dict[str, Any]] = done.raise_for_status().json()["connections"]
        # The seeded history: a backfill scan hides what customers already exposed.
        for connection in active:
            if connection["platform"] == "facebook":
                scan = await api.post("/v1/scans", json={"connection_id": connection["id"]})
                if scan.status_code != 409:  # 409: one is already running
                    scan.raise_for_status()
    async with graph_client(settings) as graph:
        problems = await subscribe_app_webhooks(
            graph, webhook_url(settings), settings.meta_webhook_verify_token
        )
    refused = {o: p for o, p in problems.items() if p is not None}
    if refused:
        raise RuntimeError(f"the sandbox refused the app's webhook: {refused}")
    return active


async def connect_demo_page_hook(ctx: DevContext) -> None:
    """AFTER_START hook: only with the sandbox (a real Meta app is connected by a person)."""
    if ctx.sandbox_url is None:
        return
    connections = await connect_demo_pages(ctx.api_url, ctx.demo.api_key, ctx.settings)
    names = ", ".join(sorted({c["name"] for c in connections}))
    ctx.console.print(f"connected the demo tenant's sandbox pages: {names}")
