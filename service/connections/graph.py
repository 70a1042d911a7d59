"""The one place a GraphClient is configured from settings."""

from __future__ import annotations

from service.platforms.graph import GraphClient
from service.settings import Settings


def graph_client(settings: Settings) -> GraphClient:
    return GraphClient(
        app_id=settings.meta_app_id,
        app_secret=settings.meta_app_secret,
        base_url=settings.meta_graph_url,
        version=settings.meta_graph_version,
    )
