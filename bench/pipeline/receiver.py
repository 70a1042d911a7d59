"""`python -m bench.pipeline.receiver --port P --graph URL --token T [--hide 0.2]`: a stand-in for
Wallguard that costs next to nothing, to measure the instrument (sandbox and generator) alone.

It answers Meta's ``hub.challenge`` and every webhook POST with 200 at once, notes when each new
comment arrived, and hides ``hide`` of them (every fifth at 0.2, whatever the text) with one Graph
batch request per 20 ms, as the workers would: so the sandbox also serves the hides and sends
their ``hide`` webhooks, the whole load it carries in ``bench.pipeline.time_to_hide``.
``GET /arrivals`` returns ``{comment id: unix time}``. A bare ASGI callable under uvicorn, no
framework, no signature check, no log.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import msgspec
import uvicorn

TICK_SECONDS = 0.02
BATCH_LIMIT = 50  # Graph's


class Receiver:
    def __init__(self, graph_url: str, token: str, hide: float) -> None:
        self.graph_url = graph_url
        self.token = token
        self.hide = hide
        self.arrivals: dict[str, float] = {}
        self._to_hide: list[str] = []
        self._share = 0.0
        self._hider: asyncio.Task[None] | None = None
        self._decoder = msgspec.json.Decoder()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await self._get(scope, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self._note(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def _get(self, scope: dict[str, Any], send: Any) -> None:
        if scope["path"] == "/arrivals":
            body = msgspec.json.encode(self.arrivals)
        else:
            query = parse_qs(scope["query_string"].decode())
            body = query.get("hub.challenge", [""])[0].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    def _note(self, body: bytes) -> None:
        now = time.time()
        payload = self._decoder.decode(body)
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                if value.get("item") != "comment" or value.get("verb") != "add":
                    continue
                comment_id = value["comment_id"]
                self.arrivals.setdefault(comment_id, now)
                self._share += self.hide
                if self._share >= 1.0:
                    self._share -= 1.0
                    self._to_hide.append(comment_id)
        if self._to_hide and self._hider is None:
            self._hider = asyncio.create_task(self._hide_forever())

    async def _hide_forever(self) -> None:
        async with httpx.AsyncClient(base_url=self.graph_url, timeout=30) as graph:
            while True:
                await asyncio.sleep(TICK_SECONDS)
                while self._to_hide:
                    batch = self._to_hide[:BATCH_LIMIT]
                    del self._to_hide[:BATCH_LIMIT]
                    operations = [
                        {"method": "POST", "relative_url": f"v21.0/{c}", "body": "is_hidden=true"}
                        for c in batch
                    ]
                    await graph.post(
                        "/",
                        data={
                            "access_token": self.token,
                            "batch": msgspec.json.encode(operations).decode(),
                            "include_headers": "false",
                        },
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--graph", required=True, help="the sandbox's URL")
    parser.add_argument("--token", required=True, help="a page token for the hides")
    parser.add_argument("--hide", type=float, default=0.2, help="share of comments to hide")
    args = parser.parse_args()
    uvicorn.run(
        Receiver(args.graph, args.token, args.hide),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
