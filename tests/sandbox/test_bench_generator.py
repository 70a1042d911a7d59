"""The pipeline benchmarks' comment generator against a real sandbox: every planned comment is
created, once, with the sandbox's creation instant."""

from __future__ import annotations

import httpx
import pytest

from bench.pipeline.generator import generate, plan
from service.sandbox import RunningSandbox

pytestmark = [pytest.mark.asyncio, pytest.mark.e2e]


async def test_the_generator_creates_every_planned_comment_a_tick_at_a_time(
    sandbox: RunningSandbox, control: httpx.AsyncClient
) -> None:
    page_id = sorted(sandbox.store.pages)[0]
    post = (await control.post(f"/_sandbox/pages/{page_id}/posts", json={"message": "x"})).json()
    planned = plan(post["id"], rate=2_000, seconds=0.05, personal=0.5)
    assert len(planned) == 100
    requests: list[str] = []

    async def count(request: httpx.Request) -> None:
        requests.append(request.url.path)

    control.event_hooks["request"].append(count)
    generated = await generate(control, planned)
    assert generated.failed == 0
    assert len(generated.created) == 100
    made = sandbox.store.live_children(post["id"])
    assert [n.message for n in made] == [p.message for p in planned]
    assert {n.id: n.created_at for n in made} == {
        comment_id: c.created_at for comment_id, c in generated.created.items()
    }
    assert sum(c.personal for c in generated.created.values()) == sum(p.personal for p in planned)
    # 50 ms of comments in ticks at 0, 20, 40 and 60 ms: at most four requests (fewer when the
    # loop wakes late and a tick takes more), never one per comment.
    assert set(requests) == {"/_sandbox/comments"}
    assert 1 <= len(requests) <= 4
