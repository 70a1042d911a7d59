"""What a pipeline run needs, built once per worker process.

One ``Database`` and ``Queue``, one ``GraphClient`` (its connection pool and the usage Meta last
reported), one ``Cipher`` and a cache of compiled ``Detector``s, keyed by tenant and by the rules
that shape a detector (allowlist and custom patterns), so a policy change builds a new detector on
its next use and the old one ages out. The worker builds it at startup (service/workers/main.py)
and passes it to every pipeline step; tests build their own with ``PipelineContext.create``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from service.connections.graph import graph_client
from service.crypto import Cipher
from service.db import Database
from service.detection import CustomPattern, Detector, TenantRules
from service.platforms.graph import GraphClient
from service.platforms.limits import RedisLimits
from service.queue import Queue
from service.settings import Settings

# The environment's defaults, declared once in ``Settings``.
_DEFAULTS = Settings()


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Tunables of the pipeline. Those an operator sets come from ``Settings``
    (``from_settings``); the rest are constants with a reason. Tests shorten the windows."""

    # Posts with activity in this window are polled, because page webhooks can be minutes late.
    poll_window_seconds: int = _DEFAULTS.poll_window_seconds
    # How often each active connection's recent posts are polled.
    poll_interval_seconds: int = _DEFAULTS.poll_interval_seconds
    # Comments up to this much older than the last poll are looked at again (clock skew).
    poll_overlap_seconds: int = 300
    # Inbox events, moderation actions and scan jobs still pending (or without a heartbeat)
    # after this long are sent again.
    stale_after_seconds: int = _DEFAULTS.reconcile_stale_seconds
    # A job a worker started this long ago whose row no transaction holds (a live worker holds
    # its rows' locks, Postgres drops a dead one's with its connection) lost its worker: its
    # claim is released and the job runs again (service/queue.py ``Queue.resend``). Also how
    # long a running scan may go without a heartbeat before a second job is sent (a second job
    # of a live scan only finds its advisory lock held).
    lease_seconds: float = 15.0
    reconcile_batch: int = 500
    # After this many failed attempts an inbox event or an action is marked failed for good.
    max_attempts: int = 8
    # Upper bound on a deferral asked for by the platform (its retry_after can be long).
    max_defer_seconds: float = 3600.0
    detector_cache_size: int = 512

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineConfig:
        return cls(
            poll_window_seconds=settings.poll_window_seconds,
            poll_interval_seconds=settings.poll_interval_seconds,
            stale_after_seconds=settings.reconcile_stale_seconds,
        )


class DetectorCache:
    """Compiled detectors per (tenant, rules digest); least recently used ones are dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[uuid.UUID, str], Detector] = OrderedDict()

    @staticmethod
    def digest(allowlist: Sequence[str], patterns: Sequence[CustomPattern]) -> str:
        raw = msgspec.json.encode([list(allowlist), list(patterns)])
        return hashlib.sha256(raw).hexdigest()

    def get(
        self, tenant_id: uuid.UUID, allowlist: Sequence[str], patterns: Sequence[CustomPattern]
    ) -> Detector:
        key = (tenant_id, self.digest(allowlist, patterns))
        detector = self._items.get(key)
        if detector is None:
            detector = Detector(TenantRules(allowlist=allowlist, custom_patterns=patterns))
            self._items[key] = detector
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return detector

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class PipelineContext:
    settings: Settings
    db: Database
    queue: Queue
    cipher: Cipher
    graph: GraphClient
    config: PipelineConfig = field(default_factory=PipelineConfig)
    detectors: DetectorCache = field(default_factory=lambda: DetectorCache(512))
    owns_graph: bool = True

    @classmethod
    def create(
        cls,
        settings: Settings,
        db: Database,
        queue: Queue,
        *,
        graph: GraphClient | None = None,
        config: PipelineConfig | None = None,
    ) -> PipelineContext:
        config = config or PipelineConfig.from_settings(settings)
        owns_graph = graph is None
        if graph is None:
            graph = pipeline_graph_client(settings)
            # Rate-limit waits shared with every other worker and job (Redis carries them).
            graph.limits = RedisLimits(queue.redis, settings.queue_name)
        return cls(
            settings=settings,
            db=db,
            queue=queue,
            cipher=Cipher(settings.encryption_keys),
            graph=graph,
            config=config,
            detectors=DetectorCache(config.detector_cache_size),
            owns_graph=owns_graph,
        )

    async def close(self) -> None:
        if self.owns_graph:
            await self.graph.aclose()


def pipeline_graph_client(settings: Settings) -> GraphClient:
    """The process's Graph client. One retry inside the client only: jobs hold a row lock while
    they call the platform, and longer waits are arq's business (Retry with a deferral)."""
    client = graph_client(settings)
    client.max_retries = 1
    return client


# Values of the kinds the engine validates, in each default region: detecting them once loads
# phonenumbers' metadata and fills what is built lazily, before the first customer's comment.
_WARM_UP_TEXT = (
    "Ring 40 52 37 46, +49 151 23456789, +358 40 1234567, 070-123 45 67, +47 412 34 567, "
    "+44 7700 900123, +1 202 555 0143. Mail mette.k@gmail.com, anna (at) gmail.com. "
    "CPR 070761-4285, hetu 131052-308T, personnummer 19811218-9876, fødselsnummer "
    "01129955131, Steuer-ID 86095742719. IBAN DE89 3704 0044 0532 0130 00, konto 1234 "
    "5678901234, kort 4111 1111 1111 1111, kundenummer 12345678, Nørregade 12, 1165 København K."
)


async def warm_up(pctx: PipelineContext) -> None:
    """What the first jobs after a start would otherwise pay for."""
    Detector().detect(_WARM_UP_TEXT)
    # A worker runs up to 20 jobs at once: most of them find a connection ready.
    await pctx.db.warm_up(connections=8)
