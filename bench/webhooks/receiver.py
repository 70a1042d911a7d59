"""`python -m bench.webhooks.receiver PORT SECRET...`: the benchmark's receiver, an agency's
endpoint as it would be written: uvicorn, every request verified with `standardwebhooks`, 2xx.
A separate process, so it neither shares the benchmark's GIL nor limits what is measured.

`POST /ok` answers 204 and notes when (by the payload's `finding_id`); `POST /dead` never answers
within the sender's timeout; `GET /times` returns the notes, `GET /count` how many.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import msgspec
import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError

times: dict[str, float] = {}
rejected = 0


def app_for(secrets: list[str]) -> Any:
    hooks = [Webhook(s) for s in secrets]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        global rejected
        if scope["type"] != "http":
            return
        path = scope["path"]
        if scope["method"] == "GET":
            payload: Any = (
                times if path == "/times" else {"count": len(times), "rejected": rejected}
            )
            await _answer(send, 200, msgspec.json.encode(payload))
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if path == "/dead":
            await asyncio.sleep(20)  # past the sender's 15 s timeout
            await _answer(send, 204, b"")
            return
        event = None
        for hook in hooks:
            try:
                event = hook.verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        if event is None:
            rejected += 1
            await _answer(send, 400, b"bad signature")
            return
        finding_id = event["data"].get("finding_id") or headers["webhook-id"]
        times.setdefault(finding_id, time.time())
        await _answer(send, 204, b"")

    return app


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app_for(sys.argv[2:]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
