"""The platform's rate limits, shared by every job and process that calls Graph.

Meta limits an app, each page (business use case) and each token, and says so in the usage
headers and its rate-limit errors. One process learning it must stop every other from calling
until the wait is over: otherwise the next poll or the next worker calls anyway, earns another
error and pushes the wait further. ``GraphClient`` asks its ``LimitStore`` before each call and
raises ``RateLimited`` with the remaining wait instead of calling; it records every wait it
learns.

``RedisLimits`` shares them through Redis (keys expire with the wait). Redis only carries them:
when it is unreachable or was restarted empty, each process keeps what it learnt itself
(``MemoryLimits``), so losing Redis costs at most one more rate-limit answer per process, never
a call made during a known wait by the process that learnt it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)

APP = "app"


def page_scope(page_id: str) -> str:
    """A page's (business use case's) quota; Meta keys it by the page or business id."""
    return f"buc:{page_id}"


def token_scope(fingerprint: str) -> str:
    """A token's quota (a call by comment id names no page; its token does)."""
    return f"token:{fingerprint}"


class LimitStore(Protocol):
    async def blocked_until(self, scopes: Sequence[str]) -> float:
        """The epoch second until which any of ``scopes`` must not be called; 0 if none."""
        ...

    async def block(self, scopes: Sequence[str], until: float) -> None:
        """Nobody calls ``scopes`` before ``until`` (epoch seconds)."""
        ...


class MemoryLimits:
    """This process's own knowledge."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def blocked_until(self, scopes: Sequence[str]) -> float:
        now = time.time()
        until = max((self._until.get(s, 0.0) for s in scopes), default=0.0)
        if self._until and len(self._until) > 10_000:
            self._until = {k: v for k, v in self._until.items() if v > now}
        return until if until > now else 0.0

    async def block(self, scopes: Sequence[str], until: float) -> None:
        for scope in scopes:
            self._until[scope] = max(self._until.get(scope, 0.0), until)


class RedisLimits:
    """Waits shared through Redis, with this process's own as the fallback."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.local = MemoryLimits()

    def _key(self, scope: str) -> str:
        return f"{self.prefix}:graph-limit:{scope}"

    async def blocked_until(self, scopes: Sequence[str]) -> float:
        local = await self.local.blocked_until(scopes)
        try:
            values = await self.redis.mget([self._key(s) for s in scopes])
        except Exception as exc:  # Redis away: what this process knows still holds
            log.debug("graph_limits_unavailable", error=type(exc).__name__)
            return local
        shared = max((float(v) for v in values if v is not None), default=0.0)
        until = max(local, shared)
        return until if until > time.time() else 0.0

    async def block(self, scopes: Sequence[str], until: float) -> None:
        await self.local.block(scopes, until)
        ttl_ms = int((until - time.time()) * 1000)
        if ttl_ms <= 0:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for scope in scopes:
                    # The later of two waits wins: compare-and-set is not worth a script here,
                    # a shorter wait written last only costs one more rate-limit answer.
                    pipe.set(self._key(scope), repr(until), px=ttl_ms)
                await pipe.execute()
        except Exception as exc:
            log.debug("graph_limits_unavailable", error=type(exc).__name__)
