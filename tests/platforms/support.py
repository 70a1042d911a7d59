"""A GraphClient on ``httpx.MockTransport`` whose sleeps are recorded, not slept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from service.platforms.graph import GraphClient

TOKEN = "EAAPsecretPageToken123"
APP_SECRET = "shh"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Collects the sleeps the client asks for, instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_client(handler: Handler, **kwargs: Any) -> tuple[GraphClient, Recorder]:
    sleeper = Recorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = GraphClient(
        app_id="app",
        app_secret=APP_SECRET,
        http=http,
        sleep=sleeper,
        jitter=lambda: 0.5,
        **kwargs,
    )
    return client, sleeper
