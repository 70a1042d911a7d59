"""A sandbox given a state file is the same platform after a restart (and never recycles ids)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from service.sandbox import RunningSandbox, SandboxConfig
from service.sandbox.persistence import RESTART_ID_GAP, SandboxStateError, load
from service.sandbox.state import Store

pytestmark = pytest.mark.e2e


def _config(path: Path) -> SandboxConfig:
    return SandboxConfig(
        pages=2, seed=3, seed_posts_per_page=2, seed_comments_per_post=4, state_file=path
    )


def test_a_restarted_sandbox_keeps_hidden_comments_tokens_and_subscriptions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sandbox.json"
    with RunningSandbox(_config(path)) as first:
        store = first.store
        with store.lock:
            comments = sorted(n.id for n in store.nodes.values() if n.kind == "comment")
            token = store.new_token("page", user_id=store.user_id, page_id=next(iter(store.pages)))
        hidden_id = comments[0]
        with httpx.Client(base_url=first.url) as http:
            # A hide through the Graph API, as Wallguard does it.
            hide = http.post(
                f"/v21.0/{hidden_id}", data={"is_hidden": "true", "access_token": token.value}
            )
            assert hide.status_code == 200, hide.text
            new = http.post(
                f"/_sandbox/objects/{store.nodes[hidden_id].root_id}/comments",
                json={"message": "Ring 40 52 37 46", "author_name": "Mette Kunde"},
            )
            assert new.status_code == 201
        new_created_at = new.json()["created_at"]
        before = {n.id: n.message for n in store.nodes.values()}
        pages_before = sorted(store.pages)
    assert path.exists()

    with RunningSandbox(_config(path)) as second, httpx.Client(base_url=second.url) as http:
        store = second.store
        # Not seeded again: the same content, no second copy.
        assert {n.id: n.message for n in store.nodes.values()} == before
        assert sorted(store.pages) == pages_before
        state = http.get(f"/_sandbox/comments/{hidden_id}").json()
        assert state["is_hidden"] is True and state["hide_calls"] == 1
        # The creation instant to the microsecond, which benchmarks measure from.
        kept = http.get(f"/_sandbox/comments/{new.json()['id']}").json()
        assert kept["created_at"] == new_created_at
        # The token handed out before the restart still works.
        read = http.get(f"/v21.0/{hidden_id}", params={"access_token": token.value})
        assert read.status_code == 200, read.text
        # A new comment never takes an id the first run handed out.
        created = http.post(
            f"/_sandbox/objects/{store.nodes[hidden_id].root_id}/comments",
            json={"message": "Tak", "author_name": "Ole Kunde"},
        ).json()["id"]
        assert created not in before


def test_ids_continue_past_a_gap_so_ids_of_a_killed_run_are_not_handed_out_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sandbox.json"
    with RunningSandbox(_config(path)) as first:
        saved_counter = first.store.id_counter
    store = Store(_config(path))
    assert load(store, path)
    assert store.id_counter == saved_counter + RESTART_ID_GAP


def test_a_fresh_persistent_sandbox_numbers_from_the_clock(tmp_path: Path) -> None:
    # A state file removed while the database remembers the old ids must not recycle them.
    early = Store(_config(tmp_path / "a.json"), clock=lambda: 1_800_000_000.0)
    later = Store(_config(tmp_path / "b.json"), clock=lambda: 1_800_000_100.0)
    assert set(early.pages).isdisjoint(later.pages)
    # Memory only (tests, benchmarks): the configured numbering, as before.
    assert list(Store(SandboxConfig(pages=1)).pages) == ["100000000000001"]


def test_an_unreadable_state_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    path.write_text("{not json")
    with pytest.raises(SandboxStateError, match=r"sandbox\.json"):
        load(Store(_config(path)), path)


async def test_webhooks_go_to_the_configured_base_when_the_callback_names_another_host() -> None:
    """Compose: the API registers http://localhost:8000/webhooks/meta (its public URL), which
    inside the sandbox's container is the sandbox itself; the sandbox sends to the API's service
    name instead, path kept."""
    from service.platforms.graph import GraphClient
    from tests.sandbox.receiver import webhook_receiver

    with webhook_receiver("verify-me") as receiver:
        base = receiver.url.removesuffix("/webhooks/meta")
        config = SandboxConfig(pages=1, webhook_base_url=base)
        with RunningSandbox(config) as sandbox:
            async with GraphClient(
                app_id=config.app_id, app_secret=config.app_secret, base_url=sandbox.url
            ) as graph:
                assert await graph.subscribe_app_webhook(
                    "http://localhost:1/webhooks/meta", "verify-me"
                )
                page_id = next(iter(sandbox.store.pages))
                token = sandbox.store.new_token(
                    "page", user_id=sandbox.store.user_id, page_id=page_id
                )
                assert await graph.subscribe_page(page_id, token.value)
            assert [v["hub.mode"] for v in receiver.verifications] == ["subscribe"]
            post = sandbox.store.add_post(page_id, "Hello")
            sandbox.store.add_comment(post.id, "Ring 40 52 37 46", author_name="Mette Kunde")
            assert receiver.wait_for(lambda: bool(receiver.posts))
            assert {p.path for p in receiver.posts} == {"/webhooks/meta"}
            # What the platform shows as the subscription is what the app registered.
            assert sandbox.store.app_subscriptions["page"].callback_url == (
                "http://localhost:1/webhooks/meta"
            )
