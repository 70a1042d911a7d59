"""Per-API-key rate limits, counted in Redis by the ``limits`` library so every API process
shares one count.

Two moving windows per key: a burst (per second) and a sustained rate (per minute). Each
authenticated request takes one from both; when either is empty the answer is a 429 problem with
``Retry-After``. Every answer to a key carries the IETF rate-limit headers
(draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Policy`` names both windows,
``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` describe the one closest to
running out. Redis being down must not take the API down with it: the limiter then lets requests
through (fails open) and logs it, and the answers carry no rate-limit headers.
"""

from __future__ import annotations

import math
import time
import uuid

import structlog
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from service.errors import WallguardError

log = structlog.get_logger(__name__)


class TooManyRequests(WallguardError):
    """The API key sent more requests than its rate limit allows; wait `Retry-After` seconds."""

    status_code = 429
    title = "Too many requests"
    type_slug = "rate-limited"


class Decision:
    __slots__ = ("allowed", "limit", "policy", "remaining", "reset")

    def __init__(self, allowed: bool, limit: int, remaining: int, reset: int, policy: str) -> None:
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.policy = policy

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Policy": self.policy,
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(self.reset, 1))
        return out


class RateLimiter:
    def __init__(self, redis_url: str, per_second: int, per_minute: int) -> None:
        self.windows = [RateLimitItemPerSecond(per_second), RateLimitItemPerMinute(per_minute)]
        self.policy = f"{per_second};w=1, {per_minute};w=60"
        # Our own pool, so that shutdown can close its connections.
        self.pool = ConnectionPool.from_url(
            redis_url,
            # A Redis that does not answer costs a request at most this long (then it fails open).
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
        )
        self.storage = RedisStorage(
            "async+" + redis_url,
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix="wallguard:ratelimit",
            connection_pool=self.pool,  # type: ignore[arg-type]
        )
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def hit(self, api_key_id: uuid.UUID) -> Decision | None:
        """One request by this key; None when Redis could not be asked (let it through)."""
        key = api_key_id.hex
        now = time.time()
        allowed = True
        # The window closest to running out: (share left, limit, remaining, seconds to reset).
        tightest = (math.inf, 0, 0, 0)
        try:
            for window in self.windows:
                taken = await self.limiter.hit(window, key)
                stats = await self.limiter.get_window_stats(window, key)
                remaining = 0 if not taken else stats.remaining
                share = remaining / window.amount
                allowed = allowed and taken
                if share < tightest[0]:
                    reset = max(1, math.ceil(stats.reset_time - now))
                    tightest = (share, window.amount, remaining, reset)
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return None
        _, limit, remaining, reset = tightest
        return Decision(allowed, limit, remaining, reset, self.policy)

    async def aclose(self) -> None:
        await self.pool.aclose()

    def describe(self) -> str:
        per_second, per_minute = (w.amount for w in self.windows)
        return f"{per_second} requests a second and {per_minute} a minute"
