"""`wallguard meta subscribe-webhook`: the Meta app's webhook registration."""

from __future__ import annotations

import asyncio

import typer

app = typer.Typer(help="The Meta (Facebook/Instagram) app.", no_args_is_help=True)


@app.command("subscribe-webhook")
def subscribe_webhook() -> None:
    """Register WALLGUARD_PUBLIC_URL/webhooks/meta as the app's webhook for page feeds and
    Instagram comments (once per app)."""
    from service.connections.graph import graph_client, subscribe_app_webhooks
    from service.connections.service import webhook_url
    from service.settings import get_settings

    settings = get_settings()
    if not settings.meta_webhook_verify_token:
        raise typer.BadParameter("META_WEBHOOK_VERIFY_TOKEN is not set")

    async def _subscribe() -> dict[str, str | None]:
        async with graph_client(settings) as graph:
            return await subscribe_app_webhooks(
                graph, webhook_url(settings), settings.meta_webhook_verify_token
            )

    problems = asyncio.run(_subscribe())
    for object_type, problem in problems.items():
        outcome = "registered" if problem is None else f"NOT registered ({problem})"
        typer.echo(f"{object_type} webhook {outcome}: {webhook_url(settings)}")
    raise typer.Exit(0 if not any(problems.values()) else 1)
