"""The sandbox's comment listings read sorted indexes by bisection (``_list_children``); every
page, cursor and paging link must be what the plain listing (``_list`` over every live child,
or every live comment under the post for ``filter=stream``) gives, whatever the order, cursor,
limit, equal timestamps, replies and deleted comments."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.sandbox.config import SandboxConfig
from service.sandbox.graph_api import Call, GraphApi
from service.sandbox.persistence import encode, restore
from service.sandbox.state import Store, encode_cursor


def _body(response: Any) -> dict[str, Any]:
    return dict(response.content)


def _store(times: list[int], deleted: set[int], replies: set[int]) -> tuple[Store, str]:
    store = Store(SandboxConfig())
    page_id = next(iter(sorted(store.pages)))
    post = store.add_post(page_id, "Storm post", created_time=1_700_000_000, notify=False)
    made: list[str] = []
    for i, t in enumerate(times):
        # Comment i answers comment i - 1 when i is in ``replies``.
        parent = made[-1] if i in replies and made else post.id
        comment = store.add_comment(
            parent, f"c{i}", author_name="Kunde", created_time=1_700_000_000 + t, notify=False
        )
        made.append(comment.id)
        if i in deleted:
            store.delete_node(comment.id)
    return store, post.id


@settings(max_examples=150, deadline=None)
@given(
    times=st.lists(st.integers(0, 6), max_size=14),
    deleted=st.sets(st.integers(0, 13), max_size=5),
    replies=st.sets(st.integers(0, 13), max_size=6),
    stream=st.booleans(),
    newest_first=st.booleans(),
    limit=st.integers(1, 5),
    cursor=st.one_of(
        st.none(), st.tuples(st.sampled_from(["after", "before"]), st.integers(-1, 15))
    ),
)
def test_children_pages_match_the_plain_listing(
    times: list[int],
    deleted: set[int],
    replies: set[int],
    stream: bool,
    newest_first: bool,
    limit: int,
    cursor: tuple[str, int] | None,
) -> None:
    store, post_id = _store(times, deleted, replies)
    api = GraphApi(store)
    params = {"limit": str(limit)}
    if cursor is not None:
        # A cursor on an existing comment's key, or between or beyond them (index -1, 14, 15).
        kind, index = cursor
        listed = store.streams if stream else store.children
        keys = [store.nodes[c].sort_key for _, _, c in listed.get(post_id, [])]
        key = keys[index] if 0 <= index < len(keys) else (1_700_000_000 + index, index)
        params[kind] = encode_cursor(key)
    call = Call("GET", "v21.0", post_id, "comments", params, "http://sandbox")
    render = api._render_comment
    fields = {"id", "message", "created_time"}
    expected = _body(
        api._list(
            call,
            store.descendants(post_id) if stream else store.live_children(post_id),
            newest_first=newest_first,
            render=render,
            fields=fields,
        )
    )
    got = _body(
        api._list_children(
            call, post_id, newest_first=newest_first, render=render, fields=fields, stream=stream
        )
    )
    assert got == expected


def test_a_restored_sandbox_has_the_same_indexes() -> None:
    store, _ = _store([3, 1, 1, 2, 0, 5], deleted={2}, replies={1, 3})
    restored = Store(SandboxConfig())
    restore(restored, encode(store))
    assert restored.children == store.children
    assert restored.streams == store.streams
