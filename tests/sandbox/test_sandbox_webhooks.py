"""Webhook events and payload building, without HTTP."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from service.sandbox.config import SandboxConfig
from service.sandbox.state import AppSubscription, Store, WebhookEvent
from service.sandbox.webhooks import WebhookDeliverer, build_payloads, encode_payload


def event(page: str, n: int) -> WebhookEvent:
    return WebhookEvent(due=0, entry_id=page, value={"item": "comment", "comment_id": str(n)})


def test_payloads_group_per_page_and_respect_the_batch_size() -> None:
    events = [event("A", 1), event("B", 2), event("A", 3), event("A", 4)]
    payloads = build_payloads(events, max_batch=3, now=1700000000)
    assert len(payloads) == 2
    first = payloads[0]
    assert first["object"] == "page"
    assert [(e["id"], len(e["changes"])) for e in first["entry"]] == [("A", 2), ("B", 1)]
    assert all(e["time"] == 1700000000 for e in first["entry"])
    assert first["entry"][0]["changes"][0] == {"field": "feed", "value": events[0].value}
    assert [e["id"] for e in payloads[1]["entry"]] == ["A"]


def test_encoded_bodies_escape_non_ascii() -> None:
    body = encode_payload({"message": "Hälsningar från Malmö"})
    assert body.isascii()
    assert b"\\u00e4" in body
    assert json.loads(body) == {"message": "Hälsningar från Malmö"}


# --- Instagram comments ----------------------------------------------------------------------

APP_ID = "sandbox-app"


def instagram_store(*, subscribe: bool = True, fields: tuple[str, ...] = ("comments",)) -> Store:
    """One page linked to an Instagram account, the app installed on the page (as OAuth does)
    and, unless told otherwise, subscribed to the ``instagram`` object."""
    store = Store(SandboxConfig(app_id=APP_ID, pages=1, link_instagram=True))
    [page] = store.pages.values()
    page.subscribed_apps[APP_ID] = ["feed"]
    if subscribe:
        store.app_subscriptions["instagram"] = AppSubscription(
            object="instagram",
            callback_url="http://127.0.0.1:9/webhooks/meta",
            fields=list(fields),
            verify_token="v",
        )
    return store


def ig_account(store: Store) -> str:
    [ig_user_id] = store.ig_users
    return ig_user_id


def test_an_instagram_comment_queues_the_documented_comments_change() -> None:
    store = instagram_store()
    ig_user_id = ig_account(store)
    media = store.add_ig_media(ig_user_id, "Nyt abonnement")
    assert store.pending_events == []  # new media is not a comments change

    comment = store.add_comment(media.id, "ring 40 52 37 46", author_name="Mette Kunde")

    [event] = store.pending_events
    assert (event.object, event.field, event.entry_id) == ("instagram", "comments", ig_user_id)
    assert event.value == {
        "from": {"id": comment.from_id, "username": "mette.kunde"},
        "media": {"id": media.id, "media_product_type": "FEED"},
        "id": comment.id,
        "text": "ring 40 52 37 46",
    }
    [payload] = build_payloads(store.take_due_events(), max_batch=5, now=1700000000)
    assert payload == {
        "object": "instagram",
        "entry": [
            {
                "id": ig_user_id,
                "time": 1700000000,
                "changes": [{"field": "comments", "value": event.value}],
            }
        ],
    }


def test_replies_carry_the_parent_and_the_accounts_own_replies_are_sent_too() -> None:
    store = instagram_store()
    ig_user_id = ig_account(store)
    media = store.add_ig_media(ig_user_id, "Caption")
    top = store.add_comment(media.id, "Hvornår?", author_name="Bo")
    reply = store.add_comment(top.id, "Også mig", author_name="Ib")
    own = store.add_comment(top.id, "Vi kigger på det")  # the account answers

    values = [e.value for e in store.pending_events]
    assert [v["id"] for v in values] == [top.id, reply.id, own.id]
    assert "parent_id" not in values[0]
    assert values[1]["parent_id"] == top.id and values[1]["media"]["id"] == media.id
    assert values[2]["from"] == {"id": ig_user_id, "username": store.ig_users[ig_user_id].username}


def test_edits_removals_and_hides_of_instagram_comments_send_nothing() -> None:
    store = instagram_store()
    media = store.add_ig_media(ig_account(store), "Caption")
    comment = store.add_comment(media.id, "first", author_name="Bo")
    store.pending_events.clear()

    store.edit_message(comment.id, "second")
    store.set_hidden(comment.id, True)
    store.delete_node(comment.id)

    assert store.pending_events == []


@pytest.mark.parametrize(
    "setup",
    ["no instagram subscription", "subscribed to other fields", "app not installed on the page"],
)
def test_no_instagram_webhook_without_both_subscriptions(setup: str) -> None:
    store = instagram_store(
        subscribe=setup != "no instagram subscription",
        fields=("mentions",) if setup == "subscribed to other fields" else ("comments",),
    )
    if setup == "app not installed on the page":
        for page in store.pages.values():
            page.subscribed_apps.clear()
    media = store.add_ig_media(ig_account(store), "Caption")
    store.add_comment(media.id, "hello", author_name="Bo")
    assert store.pending_events == []


def test_the_page_subscription_does_not_carry_instagram_comments() -> None:
    store = instagram_store(subscribe=False)
    store.app_subscriptions["page"] = AppSubscription(
        object="page", callback_url="http://127.0.0.1:9/", fields=["feed"], verify_token="v"
    )
    media = store.add_ig_media(ig_account(store), "Caption")
    store.add_comment(media.id, "hello", author_name="Bo")
    assert store.pending_events == []


def test_payloads_never_mix_objects_and_batch_each_object() -> None:
    page = [event("P", n) for n in range(3)]
    ig = [
        WebhookEvent(
            due=0, entry_id="IG", value={"id": str(n)}, object="instagram", field="comments"
        )
        for n in range(3)
    ]
    mixed = [page[0], ig[0], page[1], ig[1], ig[2], page[2]]
    payloads = build_payloads(mixed, max_batch=2, now=1)
    assert [(p["object"], sum(len(e["changes"]) for e in p["entry"])) for p in payloads] == [
        ("page", 2),
        ("page", 1),
        ("instagram", 2),
        ("instagram", 1),
    ]
    for payload in payloads:
        fields = {c["field"] for e in payload["entry"] for c in e["changes"]}
        assert fields == ({"feed"} if payload["object"] == "page" else {"comments"})


# --- delivery over HTTP ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_deliveries_share_a_bounded_pool_of_kept_alive_connections() -> None:
    """Ten POSTs at once through a pool of two: the callback sees at most two connections, each
    carrying several deliveries (a TCP handshake per delivery cost the sandbox most of its CPU
    in benchmarks), and every delivery still succeeds."""
    accepted = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        try:
            while True:  # HTTP/1.1: the connection stays open between requests
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = Store(SandboxConfig(app_id=APP_ID, pages=1, webhook_max_connections=2))
    store.webhook_max_batch = 1  # one POST per change
    [page] = store.pages.values()
    page.subscribed_apps[APP_ID] = ["feed"]
    store.app_subscriptions["page"] = AppSubscription(
        object="page",
        callback_url=f"http://127.0.0.1:{port}/webhooks/meta",
        fields=["feed"],
        verify_token="v",
    )
    deliverer = WebhookDeliverer(store)
    await deliverer.start()
    try:
        with store.lock:  # one burst
            post = store.add_post(page.id, "News")
            for n in range(9):
                store.add_comment(post.id, f"comment {n}", author_name=f"Customer {n}")
        for _ in range(1_000):
            if len(store.deliveries) >= 10:
                break
            await asyncio.sleep(0.01)
    finally:
        await deliverer.stop()
        server.close()
        await server.wait_closed()
    assert [d.status for d in store.deliveries] == [200] * 10
    assert 1 <= accepted <= 2


# --- usage windows ---------------------------------------------------------------------------


def test_usage_counts_the_calls_of_the_last_hour_only() -> None:
    now = [1_700_000_000.0]
    store = Store(SandboxConfig(pages=1, app_calls_per_hour=100), clock=lambda: now[0])
    for _ in range(30):
        assert store.count_call(None)[0] <= 30
    now[0] += 30 * 60  # half an hour later
    for _ in range(20):
        store.count_call(None)
    assert store.count_call(None) == (51, None)
    now[0] += 31 * 60  # the first 30 calls are more than an hour old
    assert store.count_call(None) == (22, None)
    now[0] += 2 * 3_600
    assert store.count_call(None) == (1, None)
