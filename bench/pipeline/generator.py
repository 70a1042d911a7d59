"""The pipeline benchmarks' customers: comments at a fixed rate, posted into the sandbox a tick at
a time.

Every ``TICK_SECONDS`` the comments whose time has come go to the sandbox in one request
(``POST /_sandbox/comments``), so the arrival process keeps a 20 ms grain while the generator and
the sandbox pay one HTTP request per tick instead of one per comment: they are the measuring
instrument, sharing the cores with the system they measure. The texts are made before the clock
starts. Each comment's creation instant is the sandbox's (``created_at``), the moment the
commenter would see it posted.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx
import msgspec

from service.sandbox.seed import generate_comment

TICK_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class Planned:
    offset: float  # seconds after the start
    object_id: str
    message: str
    author_name: str
    personal: bool


@dataclass(frozen=True, slots=True)
class Created:
    personal: bool
    created_at: float  # the sandbox's clock


@dataclass
class Generated:
    created: dict[str, Created]  # comment id -> what it was
    failed: int  # comments whose request failed (the instrument could not take the rate)
    load_seconds: float  # from the first tick to the last creation answered
    late_ticks: int  # ticks that started a tick or more behind their time

    @property
    def achieved_rate(self) -> float:
        return len(self.created) / self.load_seconds if self.load_seconds > 0 else 0.0


class _Item(msgspec.Struct):
    object_id: str
    message: str
    author_name: str


class _Batch(msgspec.Struct):
    comments: list[_Item]


class _CreatedOut(msgspec.Struct):
    id: str
    created_at: float


class _BatchOut(msgspec.Struct):
    comments: list[_CreatedOut]


def plan(
    object_id: str, rate: float, seconds: float, personal: float, seed: int = 42
) -> list[Planned]:
    """``rate`` comments a second for ``seconds`` on ``object_id``, evenly spaced, ``personal``
    of them with personal data (the seed's Danish generator)."""
    rng = random.Random(seed)
    planned = []
    for i in range(int(rate * seconds)):
        is_personal = rng.random() < personal
        text, _ = generate_comment(rng, "da", personal=is_personal)
        planned.append(Planned(i / rate, object_id, text, f"Kunde {i}", is_personal))
    return planned


async def generate(
    control: httpx.AsyncClient, planned: list[Planned], tick: float = TICK_SECONDS
) -> Generated:
    """Posts ``planned`` into the sandbox behind ``control``, each tick's due comments in one
    request; returns once every request has been answered."""
    encoder = msgspec.json.Encoder()
    decoder = msgspec.json.Decoder(_BatchOut)
    created: dict[str, Created] = {}
    failed = 0
    last_answer = 0.0
    late_ticks = 0

    async def post(batch: list[Planned]) -> None:
        nonlocal failed, last_answer
        body = _Batch([_Item(p.object_id, p.message, p.author_name) for p in batch])
        try:
            response = await control.post(
                "/_sandbox/comments",
                content=encoder.encode(body),
                headers={"content-type": "application/json"},
            )
            response.raise_for_status()
        except httpx.HTTPError:
            # The instrument could not take the rate on this machine: counted, the run goes on.
            failed += len(batch)
            return
        answer = decoder.decode(response.content)
        for item, made in zip(batch, answer.comments, strict=True):
            created[made.id] = Created(item.personal, made.created_at)
        last_answer = time.perf_counter()

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    next_index = 0
    tick_index = 0
    while next_index < len(planned):
        now = time.perf_counter() - start
        if now - tick_index * tick >= tick:
            late_ticks += 1
        due = next_index
        while due < len(planned) and planned[due].offset <= now:
            due += 1
        if due > next_index:
            tasks.append(asyncio.create_task(post(planned[next_index:due])))
            next_index = due
        # The next tick on the grid, however long this one took.
        tick_index = int((time.perf_counter() - start) / tick) + 1
        await asyncio.sleep(max(0.0, start + tick_index * tick - time.perf_counter()))
    await asyncio.gather(*tasks)
    return Generated(created, failed, max(0.0, last_answer - start), late_ticks)
