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
from typing import Any

import structlog
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.api.deps import services_of
from service.auth.types import Principal
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
        self.storage = RedisStorage(
            "async+" + redis_url,
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix="wallguard:ratelimit",
            # A Redis that does not answer costs a request at most this long (then it fails open).
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
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
        except (StorageError, OSError, TimeoutError) as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return None
        _, limit, remaining, reset = tightest
        return Decision(allowed, limit, remaining, reset, self.policy)

    def describe(self) -> str:
        per_second, per_minute = (w.amount for w in self.windows)
        return f"{per_second} requests a second and {per_minute} a minute"


def rate_limit_middleware(app: ASGIApp) -> ASGIApp:
    """Runs after authentication (it needs the key); public routes have no key and no limit."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        principal: Any = scope.get("user")
        if scope["type"] != ScopeType.HTTP or not isinstance(principal, Principal):
            await app(scope, receive, send)
            return
        limiter = services_of(scope["litestar_app"].state).rate_limiter
        decision = await limiter.hit(principal.api_key_id)
        if decision is None:
            await app(scope, receive, send)
            return
        headers = decision.headers()
        if not decision.allowed:
            raise TooManyRequests(
                f"This API key may send {limiter.describe()}; retry after `Retry-After` seconds.",
                headers=headers,
            )
        encoded = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
