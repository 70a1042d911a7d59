"""The one place a GraphClient is configured from settings, and what the app's webhook is
registered for."""

from __future__ import annotations

from service.platforms.errors import PlatformError
from service.platforms.graph import GraphClient
from service.settings import Settings

# Meta configures an app's webhook per object, each with its own fields (all to our one
# callback): the pages' feeds, and comments on the media of the Instagram accounts linked to
# them. Without the second, Instagram comments never arrive in real time.
APP_WEBHOOKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("page", ("feed",)),
    ("instagram", ("comments",)),
)


def graph_client(settings: Settings) -> GraphClient:
    return GraphClient(
        app_id=settings.meta_app_id,
        app_secret=settings.meta_app_secret,
        base_url=settings.meta_graph_url,
        version=settings.meta_graph_version,
    )


async def subscribe_app_webhooks(
    graph: GraphClient, callback_url: str, verify_token: str
) -> dict[str, str | None]:
    """Register ``callback_url`` for every object in ``APP_WEBHOOKS``. Returns, per object,
    None when Meta confirmed it, else why not (one refused object does not stop the others)."""
    problems: dict[str, str | None] = {}
    for object_type, fields in APP_WEBHOOKS:
        try:
            confirmed = await graph.subscribe_app_webhook(
                callback_url, verify_token, fields=fields, object_type=object_type
            )
        except PlatformError as exc:
            problems[object_type] = exc.message
        else:
            problems[object_type] = None if confirmed else "Meta did not confirm it"
    return problems
