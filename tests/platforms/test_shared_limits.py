"""Rate-limit waits are shared by every process that calls Graph (through a real Redis), and
losing Redis only costs one more rate-limit answer: a process keeps what it learnt itself."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from redis.asyncio import Redis

from service.platforms.errors import RateLimited
from service.platforms.limits import RedisLimits
from tests.conftest import REDIS_URL
from tests.helpers import free_port
from tests.platforms.support import TOKEN, make_client

PAGE = "1000"


class Platform:
    """Meta behind a MockTransport: rate-limits the page until told otherwise."""

    def __init__(self) -> None:
        self.calls = 0
        self.limited = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.limited:
            return httpx.Response(200, json={"success": True})
        usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 2}]}
        return httpx.Response(
            400,
            json={"error": {"message": "(#32) Page request limit reached", "code": 32}},
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )


async def test_a_wait_learnt_by_one_process_holds_for_every_other() -> None:
    prefix = f"wallguard:test:{uuid.uuid4().hex}"
    redis_a, redis_b = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    meta = Platform()
    first, _ = make_client(meta, limits=RedisLimits(redis_a, prefix))
    second, _ = make_client(meta, limits=RedisLimits(redis_b, prefix))
    try:
        with pytest.raises(RateLimited):
            await first.hide_comment(f"{PAGE}_1", TOKEN)
        assert meta.calls == 1

        # Another process, another comment of the same page (same token): no call at all.
        with pytest.raises(RateLimited) as waiting:
            await second.hide_comment(f"{PAGE}_2", TOKEN)
        assert meta.calls == 1
        assert 60 < waiting.value.retry_after <= 120  # Meta's two minutes, what is left of them
        # A poll reading the page's feed waits too.
        with pytest.raises(RateLimited):
            await second.feed_page(PAGE, TOKEN)
        assert meta.calls == 1
    finally:
        keys = [k async for k in redis_a.scan_iter(f"{prefix}:*")]
        if keys:
            await redis_a.delete(*keys)
        for client in (first, second):
            await client.aclose()
        await redis_a.aclose()
        await redis_b.aclose()


async def test_without_redis_a_process_keeps_its_own_waits() -> None:
    gone = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    meta = Platform()
    first, _ = make_client(meta, limits=RedisLimits(gone, "wallguard:test:gone"))
    second, _ = make_client(meta, limits=RedisLimits(gone, "wallguard:test:gone"))
    try:
        with pytest.raises(RateLimited):
            await first.hide_comment(f"{PAGE}_1", TOKEN)
        with pytest.raises(RateLimited):
            await first.hide_comment(f"{PAGE}_2", TOKEN)
        assert meta.calls == 1  # the process that learnt the wait honours it
        with pytest.raises(RateLimited):
            await second.hide_comment(f"{PAGE}_3", TOKEN)
        assert meta.calls == 2  # the other pays one more rate-limit answer, no more
        with pytest.raises(RateLimited):
            await second.hide_comment(f"{PAGE}_4", TOKEN)
        assert meta.calls == 2
    finally:
        for client in (first, second):
            await client.aclose()
        await gone.aclose()
