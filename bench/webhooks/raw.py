"""`python -m bench.webhooks.raw URL SECRET COUNT`: the ceiling in the same run, signed POSTs
with the production sender (its pool, signing, SSRF guard), ``endpoint_concurrency`` at a time,
no database and no queue. Prints requests per second."""

from __future__ import annotations

import asyncio
import sys
import time

from service.settings import Settings
from service.webhooks.delivery import DeliveryConfig, WebhookSender, policy_of


async def main(url: str, secret: str, count: int) -> None:
    settings = Settings.from_env({"WALLGUARD_ENV": "test"})
    config = DeliveryConfig()
    sender = WebhookSender(config, policy_of(settings))
    body = b'{"type":"webhook.test","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    limit = asyncio.Semaphore(config.endpoint_concurrency)

    async def one(i: int) -> None:
        async with limit:
            outcome = await sender.send(url, f"raw_{i}", body, [secret])
            assert outcome.succeeded, outcome

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    print(count / (time.perf_counter() - started))
    await sender.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
