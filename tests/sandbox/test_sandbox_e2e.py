"""GraphClient against the sandbox served over real HTTP."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from service.platforms.errors import (
    PermissionMissing,
    PlatformBadRequest,
    PlatformNotFound,
    PlatformUnavailable,
    RateLimited,
    TokenInvalid,
)
from service.platforms.graph import GraphClient
from service.platforms.schemas import PageAccount
from service.platforms.signatures import verify_signature
from service.sandbox import RunningSandbox
from tests.sandbox.receiver import WebhookReceiver

APP_ID = "sandbox-app"
APP_SECRET = "sandbox-secret"
VERIFY_TOKEN = "verify-me"

pytestmark = [pytest.mark.asyncio, pytest.mark.e2e]

REDIRECT = "https://wallguard.example/oauth/meta/callback"


async def connect(graph: GraphClient, control: httpx.AsyncClient) -> list[PageAccount]:
    """The whole OAuth dance, as the service does it."""
    url = graph.build_authorize_url(REDIRECT, "state-123", dialog_base_url=graph.base_url)
    dialog = await control.get(url)
    assert dialog.status_code == 302
    location = urlparse(dialog.headers["location"])
    assert location.geturl().startswith(REDIRECT)
    query = parse_qs(location.query)
    assert query["state"] == ["state-123"]
    short = await graph.exchange_code(query["code"][0], REDIRECT)
    long = await graph.exchange_long_lived_user_token(short.access_token)
    assert long.expires_in is not None and long.expires_in > short.expires_in  # type: ignore[operator]
    return await graph.list_pages(long.access_token)


async def seed(control: httpx.AsyncClient, **body: object) -> dict[str, int]:
    response = await control.post("/_sandbox/seed", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()
    return result


async def test_oauth_flow_lists_pages_with_tokens_tasks_and_instagram(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    pages = await connect(graph, control)
    assert len(pages) == 2
    for page in pages:
        assert page.access_token
        assert "MODERATE" in page.tasks
        assert page.instagram_business_account_id
        assert page.access_token not in repr(page)


async def test_authorization_code_is_single_use(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    url = graph.build_authorize_url(REDIRECT, "s", dialog_base_url=graph.base_url)
    code = parse_qs(urlparse((await control.get(url)).headers["location"]).query)["code"][0]
    await graph.exchange_code(code, REDIRECT)
    with pytest.raises(PlatformBadRequest) as caught:
        await graph.exchange_code(code, REDIRECT)
    assert caught.value.subcode == 36009
    assert code not in str(caught.value)


async def test_me_accounts_paginates(
    graph: GraphClient, control: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    for n in range(150):
        sandbox.store.create_page(f"Extra page {n}")
    pages = await connect(graph, control)
    assert len(pages) == 152
    assert len({p.id for p in pages}) == 152
    log = (await control.get("/_sandbox/calls", params={"path": "/me/accounts"})).json()
    assert len(log) == 2  # 100 + 52


async def test_subscribe_and_unsubscribe_page(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    assert await graph.get_subscribed_apps(page.id, page.access_token) == []
    assert await graph.subscribe_page(page.id, page.access_token)
    apps = await graph.get_subscribed_apps(page.id, page.access_token)
    assert [(a.id, a.subscribed_fields) for a in apps] == [("sandbox-app", ("feed",))]
    assert await graph.unsubscribe_page(page.id, page.access_token)
    assert await graph.get_subscribed_apps(page.id, page.access_token) == []


async def test_feed_and_comments_paginate_and_resume_from_a_cursor(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    await seed(
        control,
        seed=5,
        page_ids=[page.id],
        posts_per_page=60,
        comments_per_post=30,
        reply_ratio=0.3,
    )
    posts = [p async for p in graph.iter_feed(page.id, page.access_token, page_size=25)]
    assert len(posts) == 60
    assert len({p.id for p in posts}) == 60
    times = [p.created_time for p in posts]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]

    post = posts[0]
    stream = [c async for c in graph.iter_comments(post.id, page.access_token, page_size=7)]
    toplevel = [
        c async for c in graph.iter_comments(post.id, page.access_token, "toplevel", page_size=7)
    ]
    assert len(toplevel) == 30
    replies = [c for c in stream if c.parent_id is not None]
    assert len(stream) == 30 + len(replies)
    assert replies, "seed 5 with reply_ratio 0.3 makes replies"
    assert all(c.post_id == post.id for c in stream)

    first, cursor = await graph.comments_page(post.id, page.access_token, limit=10)
    assert cursor is not None
    rest: list[str] = []
    while cursor is not None:
        batch, cursor = await graph.comments_page(
            post.id, page.access_token, limit=10, after=cursor
        )
        rest.extend(c.id for c in batch)
    assert [c.id for c in first] + rest == [c.id for c in stream]


async def test_feed_since_until(graph: GraphClient, control: httpx.AsyncClient) -> None:
    page = (await connect(graph, control))[0]
    await seed(control, seed=1, page_ids=[page.id], posts_per_page=10, comments_per_post=0)
    posts = [p async for p in graph.iter_feed(page.id, page.access_token)]
    middle = sorted(p.created_time for p in posts if p.created_time)[3:7]
    window = [p async for p in graph.iter_feed(page.id, page.access_token, middle[0], middle[-1])]
    assert sorted(p.created_time for p in window if p.created_time) == middle


async def test_hide_unhide_is_recorded_once(graph: GraphClient, control: httpx.AsyncClient) -> None:
    page = (await connect(graph, control))[0]
    post = (await control.post(f"/_sandbox/pages/{page.id}/posts", json={"message": "Hej"})).json()
    comment = (
        await control.post(
            f"/_sandbox/objects/{post['id']}/comments",
            json={"author_name": "Mette Kjærgaard", "message": "Ring på 20 20 10 17"},
        )
    ).json()
    assert await graph.hide_comment(comment["id"], page.access_token)
    fetched = await graph.get_comment(comment["id"], page.access_token)
    assert fetched.is_hidden is True
    assert fetched.can_hide is True
    assert fetched.from_name == "Mette Kjærgaard"
    state = (await control.get(f"/_sandbox/comments/{comment['id']}")).json()
    assert state["is_hidden"] is True
    assert state["hide_calls"] == 1
    calls = (await control.get("/_sandbox/calls", params={"method": "POST"})).json()
    hides = [c for c in calls if c["path"].endswith(comment["id"])]
    assert [c["params"] for c in hides] == [{"is_hidden": "true"}]
    assert all("access_token" not in c["params"] for c in calls)

    assert await graph.hide_comment(comment["id"], page.access_token, hidden=False)
    assert (await graph.get_comment(comment["id"], page.access_token)).is_hidden is False
    hidden = (await control.get("/_sandbox/hidden", params={"page_id": page.id})).json()
    assert hidden == []


async def test_reply_comes_from_the_page(graph: GraphClient, control: httpx.AsyncClient) -> None:
    page = (await connect(graph, control))[0]
    post = (await control.post(f"/_sandbox/pages/{page.id}/posts", json={"message": "Hi"})).json()
    comment = (
        await control.post(
            f"/_sandbox/objects/{post['id']}/comments",
            json={"author_name": "Emma Ashworth", "message": "My number is 07700 900123"},
        )
    ).json()
    reply_id = await graph.reply_to(comment["id"], page.access_token, "We have hidden it.")
    reply = await graph.get_comment(reply_id, page.access_token)
    assert reply.from_id == page.id
    assert reply.parent_id == comment["id"]
    assert reply.can_hide is False
    state = (await control.get(f"/_sandbox/comments/{comment['id']}")).json()
    assert [r["id"] for r in state["page_replies"]] == [reply_id]
    replies = (await control.get("/_sandbox/replies", params={"page_id": page.id})).json()
    assert [r["message"] for r in replies] == ["We have hidden it."]


async def test_instagram_media_comments_and_hide(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    ig_id = page.instagram_business_account_id
    assert ig_id is not None
    media = (await control.post(f"/_sandbox/ig/{ig_id}/media", json={"caption": "New"})).json()
    await control.post(
        f"/_sandbox/objects/{media['id']}/comments",
        json={"author_name": "Aino Kivimäki", "message": "asiakasnumero 1234567"},
    )
    items = [m async for m in graph.iter_ig_media(ig_id, page.access_token)]
    assert [m.id for m in items] == [media["id"]]
    comments = [c async for c in graph.iter_ig_comments(media["id"], page.access_token)]
    assert [c.text for c in comments] == ["asiakasnumero 1234567"]
    assert comments[0].hidden is False
    assert await graph.hide_ig_comment(comments[0].id, page.access_token)
    state = (await control.get(f"/_sandbox/comments/{comments[0].id}")).json()
    assert state["is_hidden"] is True
    again = [c async for c in graph.iter_ig_comments(media["id"], page.access_token)]
    assert again[0].hidden is True


async def test_page_token_cannot_touch_another_page(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    first, second = await connect(graph, control)
    post = (await control.post(f"/_sandbox/pages/{second.id}/posts", json={"message": "x"})).json()
    comment = (
        await control.post(f"/_sandbox/objects/{post['id']}/comments", json={"message": "y"})
    ).json()
    with pytest.raises(PlatformNotFound) as caught:
        await graph.hide_comment(comment["id"], first.access_token)
    assert caught.value.code == 100 and caught.value.subcode == 33
    with pytest.raises(PlatformNotFound):
        await graph.get_comment("123_456", first.access_token)
    state = (await control.get(f"/_sandbox/comments/{comment['id']}")).json()
    assert state["is_hidden"] is False


async def test_missing_moderate_task_is_a_permission_error(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    created = await control.post(
        "/_sandbox/pages", json={"name": "Analyst only", "tasks": ["ANALYZE"]}
    )
    page_id = created.json()["id"]
    token = (await control.post(f"/_sandbox/pages/{page_id}/tokens")).json()["access_token"]
    post = (await control.post(f"/_sandbox/pages/{page_id}/posts", json={"message": "x"})).json()
    comment = (
        await control.post(f"/_sandbox/objects/{post['id']}/comments", json={"message": "y"})
    ).json()
    with pytest.raises(PermissionMissing) as caught:
        await graph.hide_comment(comment["id"], token)
    assert caught.value.permission == "pages_manage_engagement"


async def test_rate_limit_fault_maps_to_rate_limited_with_usage(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    fault = await control.post(
        "/_sandbox/faults",
        json={
            "kind": "rate_limit",
            "page_id": page.id,
            "after_calls": 1,
            "code": 32,
            "regain_minutes": 7,
            "http_status": 429,
        },
    )
    assert fault.status_code == 201, fault.text
    assert await graph.get_subscribed_apps(page.id, page.access_token) == []
    with pytest.raises(RateLimited) as caught:
        await graph.get_subscribed_apps(page.id, page.access_token)
    assert caught.value.code == 32
    assert caught.value.status == 429
    assert caught.value.retry_after == 7 * 60
    usage = graph.usage_for(page.id)
    assert usage is not None and usage.call_count == 100
    assert graph.throttle_delay(page.id) == graph.throttle_max_sleep
    assert graph.usage.app is not None and graph.usage.app.call_count == 100


async def test_transient_5xx_is_retried_then_succeeds(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    await control.post(
        "/_sandbox/faults",
        json={"kind": "server_error", "page_id": page.id, "count": 2, "http_status": 503},
    )
    assert await graph.subscribe_page(page.id, page.access_token)
    calls = (await control.get("/_sandbox/calls", params={"path": "subscribed_apps"})).json()
    assert [c["status"] for c in calls] == [503, 503, 200]


async def test_persistent_5xx_gives_up(graph: GraphClient, control: httpx.AsyncClient) -> None:
    page = (await connect(graph, control))[0]
    await control.post("/_sandbox/faults", json={"kind": "server_error", "page_id": page.id})
    with pytest.raises(PlatformUnavailable):
        await graph.get_subscribed_apps(page.id, page.access_token)
    calls = (await control.get("/_sandbox/calls", params={"path": "subscribed_apps"})).json()
    assert len(calls) == graph.max_retries + 1


async def test_expired_page_token_gives_token_invalid(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    expired = await control.post("/_sandbox/tokens/expire", json={"page_id": page.id})
    assert expired.json()["expired"] >= 1
    with pytest.raises(TokenInvalid) as caught:
        await graph.get_subscribed_apps(page.id, page.access_token)
    assert caught.value.code == 190 and caught.value.subcode == 463
    assert page.access_token not in str(caught.value)
    assert page.access_token not in repr(caught.value)


async def test_expire_token_fault_after_n_calls(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    await control.post("/_sandbox/faults", json={"kind": "expire_token", "after_calls": 1})
    await graph.get_subscribed_apps(page.id, page.access_token)
    with pytest.raises(TokenInvalid):
        await graph.get_subscribed_apps(page.id, page.access_token)
    await control.delete("/_sandbox/faults")
    with pytest.raises(TokenInvalid):  # the token stays expired
        await graph.get_subscribed_apps(page.id, page.access_token)


async def test_app_webhook_subscription_needs_the_handshake(
    graph: GraphClient, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.verify_token = "something-else"
    with pytest.raises(PlatformBadRequest) as caught:
        await graph.subscribe_app_webhook(webhook_receiver.url, VERIFY_TOKEN)
    assert caught.value.code == 2200
    webhook_receiver.verify_token = VERIFY_TOKEN
    assert await graph.subscribe_app_webhook(webhook_receiver.url, VERIFY_TOKEN)
    last = webhook_receiver.verifications[-1]
    assert last["hub.mode"] == "subscribe"
    assert last["hub.verify_token"] == VERIFY_TOKEN
    assert last["hub.challenge"]


async def _subscribed_page(
    graph: GraphClient, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> tuple[PageAccount, str]:
    page = (await connect(graph, control))[0]
    assert await graph.subscribe_app_webhook(receiver.url, VERIFY_TOKEN)
    assert await graph.subscribe_page(page.id, page.access_token)
    post = (await control.post(f"/_sandbox/pages/{page.id}/posts", json={"message": "News"})).json()
    return page, post["id"]


def _changes(receiver: WebhookReceiver) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for received in receiver.posts:
        payload = json.loads(received.body)
        assert payload["object"] == "page"
        for entry in payload["entry"]:
            for change in entry["changes"]:
                assert change["field"] == "feed"
                found.append(change["value"])
    return found


async def test_webhooks_are_signed_and_describe_the_change(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    page, post_id = await _subscribed_page(graph, control, webhook_receiver)
    comment = (
        await control.post(
            f"/_sandbox/objects/{post_id}/comments",
            json={"author_name": "Søren Bækgaard", "message": "Mit CPR er 010180-1230 – hjælp"},
        )
    ).json()
    assert webhook_receiver.wait_for(
        lambda: any(v.get("comment_id") == comment["id"] for v in _changes(webhook_receiver))
    )
    received = webhook_receiver.posts[-1]
    assert verify_signature(APP_SECRET, received.body, received.headers["x-hub-signature-256"])
    assert not verify_signature("wrong", received.body, received.headers["x-hub-signature-256"])
    assert b"\\u00e6" in received.body  # non-ASCII escaped, as Meta signs it
    assert received.body.isascii()
    value = next(v for v in _changes(webhook_receiver) if v.get("comment_id") == comment["id"])
    assert value["item"] == "comment"
    assert value["verb"] == "add"
    assert value["post_id"] == post_id
    assert value["parent_id"] == post_id
    assert value["from"] == {"id": comment["from_id"], "name": "Søren Bækgaard"}
    assert value["message"] == "Mit CPR er 010180-1230 – hjælp"
    assert isinstance(value["created_time"], int)

    reply_id = await graph.reply_to(comment["id"], page.access_token, "Vi har skjult din kommentar")
    await graph.hide_comment(comment["id"], page.access_token)
    assert webhook_receiver.wait_for(
        lambda: (
            {("add", reply_id), ("hide", comment["id"])}
            <= {(str(v.get("verb")), str(v.get("comment_id"))) for v in _changes(webhook_receiver)}
        )
    )
    echo = next(v for v in _changes(webhook_receiver) if v.get("comment_id") == reply_id)
    assert echo["from"] == {"id": page.id, "name": page.name}  # the page's own reply
    assert echo["parent_id"] == comment["id"]


async def test_webhooks_batch_several_changes(
    graph: GraphClient,
    control: httpx.AsyncClient,
    sandbox: RunningSandbox,
    webhook_receiver: WebhookReceiver,
) -> None:
    _, post_id = await _subscribed_page(graph, control, webhook_receiver)
    await control.put("/_sandbox/webhooks/settings", json={"max_batch": 10})
    assert webhook_receiver.wait_for(lambda: len(_changes(webhook_receiver)) >= 1)  # the post
    before = len(webhook_receiver.posts)
    with sandbox.store.lock:  # one burst, as several customers commenting at once
        for n in range(6):
            sandbox.store.add_comment(post_id, f"comment {n}", author_name=f"Customer {n}")
    assert webhook_receiver.wait_for(lambda: len(_changes(webhook_receiver)) >= 7)
    batch = json.loads(webhook_receiver.posts[before].body)
    assert sum(len(e["changes"]) for e in batch["entry"]) == 6


async def test_comments_posted_in_one_request_are_created_in_order_and_batched(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    page, post_id = await _subscribed_page(graph, control, webhook_receiver)
    await control.put("/_sandbox/webhooks/settings", json={"max_batch": 10})
    assert webhook_receiver.wait_for(lambda: len(_changes(webhook_receiver)) >= 1)  # the post
    before = len(webhook_receiver.posts)
    first = (
        await control.post(f"/_sandbox/objects/{post_id}/comments", json={"message": "first"})
    ).json()
    made = await control.post(
        "/_sandbox/comments",
        json={
            "comments": [
                {"object_id": post_id, "message": f"comment {n}", "author_name": f"Customer {n}"}
                for n in range(4)
            ]
            + [{"object_id": first["id"], "message": "a reply", "author_name": "Customer 4"}]
        },
    )
    assert made.status_code == 200, made.text
    created = made.json()["comments"]
    assert [c["object_id"] for c in created] == [post_id] * 4 + [first["id"]]
    times = [c["created_at"] for c in created]
    assert times == sorted(times) and times[0] >= first["created_at"]
    for item in created:
        state = (await control.get(f"/_sandbox/comments/{item['id']}")).json()
        assert state["created_at"] == item["created_at"]
    listed = [c async for c in graph.iter_comments(post_id, page.access_token, "toplevel")]
    assert [c.message for c in listed] == [
        "first",
        "comment 0",
        "comment 1",
        "comment 2",
        "comment 3",
    ]
    # Made together, so sent together (the single comment before them may share the POST).
    ids = {c["id"] for c in created}
    assert webhook_receiver.wait_for(
        lambda: ids <= {str(v.get("comment_id")) for v in _changes(webhook_receiver)}
    )
    sent = [
        {str(c["value"]["comment_id"]) for e in json.loads(r.body)["entry"] for c in e["changes"]}
        for r in webhook_receiver.posts[before:]
    ]
    assert any(ids <= batch for batch in sent)


async def test_comments_in_one_request_are_all_or_none(
    graph: GraphClient, control: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    page = (await connect(graph, control))[0]
    post = (await control.post(f"/_sandbox/pages/{page.id}/posts", json={"message": "x"})).json()
    comment = {"object_id": post["id"], "message": "fine"}
    unknown = {"object_id": "1_404", "message": "nowhere"}
    answer = await control.post("/_sandbox/comments", json={"comments": [comment, unknown]})
    assert answer.status_code == 404
    nameless = {**comment, "author_name": " "}
    answer = await control.post("/_sandbox/comments", json={"comments": [comment, nameless]})
    assert answer.status_code == 400
    assert (await control.post("/_sandbox/comments", json={"comments": []})).status_code == 400
    assert sandbox.store.live_children(post["id"]) == []


async def test_failed_webhook_delivery_is_retried(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    _page, post_id = await _subscribed_page(graph, control, webhook_receiver)
    assert webhook_receiver.wait_for(lambda: len(webhook_receiver.posts) >= 1)
    with webhook_receiver.condition:
        webhook_receiver.fail_next_posts = 2
    await control.post(f"/_sandbox/objects/{post_id}/comments", json={"message": "retry me"})
    assert webhook_receiver.wait_for(
        lambda: any(v.get("message") == "retry me" for v in _changes(webhook_receiver))
    )
    retried: list[dict[str, object]] = []
    for _ in range(500):  # the sandbox records the 200 just after the receiver saw the POST
        deliveries = (await control.get("/_sandbox/webhooks/deliveries")).json()
        retried = [d for d in deliveries if "retry me" in d["body"]]
        if len(retried) == 3:
            break
        await asyncio.sleep(0.01)
    assert [d["status"] for d in retried] == [500, 500, 200]
    assert [d["attempt"] for d in retried] == [1, 2, 3]


async def test_no_webhooks_for_pages_without_the_app(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    first, second = await connect(graph, control)
    assert await graph.subscribe_app_webhook(webhook_receiver.url, VERIFY_TOKEN)
    assert await graph.subscribe_page(first.id, first.access_token)
    await control.post(f"/_sandbox/pages/{second.id}/posts", json={"message": "silent"})
    await control.post(f"/_sandbox/pages/{first.id}/posts", json={"message": "loud"})
    assert webhook_receiver.wait_for(
        lambda: any(v.get("message") == "loud" for v in _changes(webhook_receiver))
    )
    assert all(v.get("message") != "silent" for v in _changes(webhook_receiver))


async def test_instagram_comments_are_delivered_signed_to_the_instagram_subscription(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    page = (await connect(graph, control))[0]
    ig_id = page.instagram_business_account_id
    assert ig_id is not None
    # The same Graph call Wallguard makes for pages, for the instagram object.
    assert await graph.subscribe_app_webhook(
        webhook_receiver.url, VERIFY_TOKEN, fields=("comments",), object_type="instagram"
    )
    subscriptions = (
        await control.get(
            f"/v21.0/{APP_ID}/subscriptions", params={"access_token": f"{APP_ID}|{APP_SECRET}"}
        )
    ).json()["data"]
    assert [(s["object"], [f["name"] for f in s["fields"]]) for s in subscriptions] == [
        ("instagram", ["comments"])
    ]
    media = (await control.post(f"/_sandbox/ig/{ig_id}/media", json={"caption": "Ny"})).json()
    silent = (
        await control.post(
            f"/_sandbox/objects/{media['id']}/comments",
            json={"author_name": "Anna", "message": "before the page installed the app"},
        )
    ).json()
    assert await graph.subscribe_page(page.id, page.access_token)
    comment = (
        await control.post(
            f"/_sandbox/objects/{media['id']}/comments",
            json={"author_name": "Åsa Lindström", "message": "Mitt nummer är 070-123 45 67"},
        )
    ).json()
    answered = await control.post(
        f"/v21.0/{comment['id']}/replies",
        params={"access_token": page.access_token, "message": "Tack!"},
    )
    assert answered.status_code == 200, answered.text
    reply_id = answered.json()["id"]

    def values() -> list[dict[str, object]]:
        found = []
        for received in webhook_receiver.posts:
            payload = json.loads(received.body)
            assert payload["object"] == "instagram"
            for entry in payload["entry"]:
                assert entry["id"] == ig_id and isinstance(entry["time"], int)
                for change in entry["changes"]:
                    assert change["field"] == "comments"
                    found.append(change["value"])
        return found

    assert webhook_receiver.wait_for(lambda: any(v["id"] == reply_id for v in values()))
    for received in webhook_receiver.posts:
        assert verify_signature(APP_SECRET, received.body, received.headers["x-hub-signature-256"])
        assert received.body.isascii()
    assert [v["id"] for v in values()] == [comment["id"], reply_id]
    assert silent["id"] not in {v["id"] for v in values()}
    first, echo = values()
    assert first == {
        "from": {"id": comment["from_id"], "username": comment["from_name"]},
        "media": {"id": media["id"], "media_product_type": "FEED"},
        "id": comment["id"],
        "text": "Mitt nummer är 070-123 45 67",
    }
    assert echo["parent_id"] == comment["id"]
    assert echo["from"] == {"id": ig_id, "username": media["from_name"]}


async def test_control_api_is_documented(control: httpx.AsyncClient) -> None:
    schema = (await control.get("/_sandbox/schema/openapi.json")).json()
    assert "/_sandbox/faults" in schema["paths"]
    assert "/_sandbox/objects/{object_id}/comments" in schema["paths"]
    assert not any(path.startswith("/{version}") for path in schema["paths"])


async def test_graph_errors_use_the_graph_envelope(
    control: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    response = await control.get("/v19.0/me", params={"access_token": "nonsense"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 190 and error["type"] == "OAuthException" and error["fbtrace_id"]
    assert "X-App-Usage" in response.headers
    bad_version = await control.get("/latest/me")
    assert bad_version.json()["error"]["code"] == 2500


@pytest.mark.asyncio
async def test_edits_removals_and_visitor_posts_become_events(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    page, post_id = await _subscribed_page(graph, control, webhook_receiver)
    visitor = await control.post(
        f"/_sandbox/pages/{page.id}/posts",
        json={"message": "Jeg er utilfreds", "author_name": "Ole Vindahl"},
    )
    first = (
        await control.post(f"/_sandbox/objects/{post_id}/comments", json={"message": "v1"})
    ).json()
    second = (
        await control.post(f"/_sandbox/objects/{post_id}/comments", json={"message": "bye"})
    ).json()
    await control.patch(f"/_sandbox/comments/{first['id']}", json={"message": "v2"})
    await control.delete(f"/_sandbox/comments/{second['id']}")  # the customer deletes it
    assert await graph.delete_comment(first["id"], page.access_token)  # the page deletes one

    def verbs() -> list[tuple[object, object, object]]:
        return [
            (v.get("item"), v.get("verb"), v.get("comment_id")) for v in _changes(webhook_receiver)
        ]

    expected = [
        ("post", "add", None),  # the visitor post
        ("comment", "edited", first["id"]),
        ("comment", "remove", second["id"]),
        ("comment", "remove", first["id"]),
    ]
    # Batches are delivered concurrently, as Meta's are: the last change may arrive first.
    assert webhook_receiver.wait_for(lambda: all(e in verbs() for e in expected))
    assert ("post", "add", None) in verbs()  # the visitor post
    assert ("comment", "edited", first["id"]) in verbs()
    assert ("comment", "remove", second["id"]) in verbs()
    visitor_change = next(v for v in _changes(webhook_receiver) if v.get("item") == "post")
    assert visitor_change["post_id"] == visitor.json()["id"]
    feed = [p async for p in graph.iter_feed(page.id, page.access_token)]
    assert {p.from_name for p in feed} == {page.name, "Ole Vindahl"}
    with pytest.raises(PlatformNotFound):
        await graph.get_comment(second["id"], page.access_token)


@pytest.mark.asyncio
async def test_webhook_delay_holds_events_back(
    graph: GraphClient,
    control: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    _, post_id = await _subscribed_page(graph, control, webhook_receiver)
    assert webhook_receiver.wait_for(lambda: len(_changes(webhook_receiver)) == 1)  # the post
    settings = await control.put("/_sandbox/webhooks/settings", json={"delay_seconds": 1.5})
    assert settings.json()["delay_seconds"] == 1.5
    await control.post(f"/_sandbox/objects/{post_id}/comments", json={"message": "later"})
    pending = (await control.get("/_sandbox/webhooks/settings")).json()["pending"]
    assert pending == 1
    assert webhook_receiver.wait_for(
        lambda: any(v.get("message") == "later" for v in _changes(webhook_receiver))
    )


@pytest.mark.asyncio
async def test_latency_fault_and_concurrent_hides(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    await seed(control, seed=2, page_ids=[page.id], posts_per_page=1, comments_per_post=20)
    posts = [p async for p in graph.iter_feed(page.id, page.access_token)]
    post = posts[0]
    comments = [c async for c in graph.iter_comments(post.id, page.access_token, "toplevel")]
    await control.post("/_sandbox/faults", json={"kind": "latency", "latency_ms": 20})
    results = await asyncio.gather(*(graph.hide_comment(c.id, page.access_token) for c in comments))
    assert all(results)
    hidden = (await control.get("/_sandbox/hidden", params={"page_id": page.id})).json()
    assert sorted(h["id"] for h in hidden) == sorted(c.id for c in comments)
    assert all(h["hide_calls"] == 1 for h in hidden)
    faults = (await control.get("/_sandbox/faults")).json()
    assert faults[0]["seen"] >= len(comments)


@pytest.mark.asyncio
async def test_seed_endpoint_content_is_readable_through_the_graph(
    graph: GraphClient, control: httpx.AsyncClient
) -> None:
    page = (await connect(graph, control))[0]
    summary = await seed(control, seed=11, page_ids=[page.id], posts_per_page=2)
    assert summary["posts"] == 2 and summary["personal"] > 0
    total = 0
    async for post in graph.iter_feed(page.id, page.access_token):
        async for comment in graph.iter_comments(post.id, page.access_token):
            state = (await control.get(f"/_sandbox/comments/{comment.id}")).json()
            assert state["message"] == comment.message
            total += 1
    assert total == summary["comments"]


@pytest.mark.asyncio
async def test_tokens_are_checked_like_graph_does(
    graph: GraphClient, control: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    page = (await connect(graph, control))[0]
    post = (await control.post(f"/_sandbox/pages/{page.id}/posts", json={"message": "x"})).json()
    comment = (
        await control.post(f"/_sandbox/objects/{post['id']}/comments", json={"message": "y"})
    ).json()
    # A wrong appsecret_proof is refused.
    wrong = await control.get(
        f"/v21.0/{comment['id']}",
        params={"access_token": page.access_token, "appsecret_proof": "0" * 64},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 100
    # The token may also come in an Authorization header.
    ok = await control.get(
        f"/v21.0/{comment['id']}", headers={"Authorization": f"Bearer {page.access_token}"}
    )
    assert ok.status_code == 200 and ok.json()["id"] == comment["id"]
    assert page.id in json.loads(ok.headers["X-Business-Use-Case-Usage"])
    # No token at all.
    missing = await control.get(f"/v21.0/{comment['id']}")
    assert missing.json()["error"]["code"] == 104
    # Moderation needs a page token, not the user's.
    user_token = sandbox.store.new_token("user", user_id=sandbox.store.user_id).value
    with pytest.raises(PermissionMissing) as caught:
        await graph.hide_comment(comment["id"], user_token)
    assert caught.value.code == 210
