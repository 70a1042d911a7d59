"""Control endpoints under ``/_sandbox``: play the customers, read back what the service did,
and break the platform on purpose.

Content
  POST   /_sandbox/pages                       create a page (optionally with an IG account)
  GET    /_sandbox/pages                       pages, their IG accounts and subscriptions
  POST   /_sandbox/pages/{page_id}/tokens      a fresh page token (skips the OAuth dance)
  POST   /_sandbox/pages/{page_id}/posts       a page post, or a visitor post with author_name
  POST   /_sandbox/ig/{ig_user_id}/media       an Instagram media item
  POST   /_sandbox/objects/{object_id}/comments  a customer comments on a post, comment or media
                                        (on media or an IG comment: an Instagram comment)
  POST   /_sandbox/comments                    several customers comment at once (up to 1,000,
                                        each on its own object; all or none): a load
                                        generator's tick in one request
  PATCH  /_sandbox/comments/{comment_id}       the customer edits the comment
  DELETE /_sandbox/comments/{comment_id}       the customer removes it
  GET    /_sandbox/comments/{comment_id}       state: hidden? how often? replies by the page?
  GET    /_sandbox/hidden                      hidden comments (``page_id`` filter)
  GET    /_sandbox/replies                     comments the page made through the API
  POST   /_sandbox/seed                        deterministic realistic content
  POST   /_sandbox/streams                     a comment stream on one post: a storm (3,000 in
                                        an evening) or a steady busy page, at given times
  POST   /_sandbox/reset                       back to the configured start
Faults
  POST   /_sandbox/faults                      rate_limit | server_error | latency | expire_token
                                                | batch_error
                                        (per page, after N calls, for N calls, one method)
  GET    /_sandbox/faults ; DELETE /_sandbox/faults
  POST   /_sandbox/tokens/expire               expire one token, a page's tokens or all tokens
Webhooks and calls
  PUT    /_sandbox/webhooks/settings           delay, batch size, attempts
  GET    /_sandbox/webhooks/deliveries         every delivery attempt with its status
  GET    /_sandbox/calls                       the Graph call log (method, path, status, params)
  DELETE /_sandbox/calls
"""

from __future__ import annotations

import random
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from service.sandbox.seed import seed_comment_stream, seed_store, steady_times, storm_times
from service.sandbox.state import ALL_TASKS, Node, Store

StoreDep = NamedDependency[Store]


class PageCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    category: str = "Telecommunication Company"
    link_instagram: bool = False
    ig_username: str | None = None
    tasks: list[str] = msgspec.field(default_factory=lambda: list(ALL_TASKS))


class PageOut(msgspec.Struct):
    id: str
    name: str
    category: str
    tasks: list[str]
    instagram_business_account_id: str | None
    subscribed_fields: list[str]


class TokenOut(msgspec.Struct):
    access_token: str
    page_id: str


class PostCreate(msgspec.Struct, forbid_unknown_fields=True):
    message: str
    author_name: str | None = None  # None: the page posts; a name: a visitor post


class MediaCreate(msgspec.Struct, forbid_unknown_fields=True):
    caption: str


class CommentCreate(msgspec.Struct, forbid_unknown_fields=True):
    message: str
    author_name: str = "Alex Customer"


class CommentBatchItem(msgspec.Struct, forbid_unknown_fields=True):
    object_id: str
    message: str
    author_name: str = "Alex Customer"


class CommentBatchCreate(msgspec.Struct, forbid_unknown_fields=True):
    comments: Annotated[list[CommentBatchItem], msgspec.Meta(min_length=1, max_length=1_000)]


class CreatedComment(msgspec.Struct):
    id: str
    object_id: str
    # The sandbox's clock when it was made (unix seconds, microseconds): the instant the
    # commenter posted, from which benchmarks measure time to hide.
    created_at: float


class CommentBatchOut(msgspec.Struct):
    comments: list[CreatedComment]


class CommentEdit(msgspec.Struct, forbid_unknown_fields=True):
    message: str


class ObjectOut(msgspec.Struct):
    id: str
    kind: str
    page_id: str
    parent_id: str
    post_id: str
    from_id: str
    from_name: str
    message: str
    created_time: int
    by_page: bool
    created_at: float


class PageReply(msgspec.Struct):
    id: str
    message: str
    created_time: int


class HideEvent(msgspec.Struct):
    hidden: bool
    at: float


class CommentState(msgspec.Struct):
    id: str
    kind: str
    page_id: str
    post_id: str
    parent_id: str
    from_name: str
    message: str
    is_hidden: bool
    deleted: bool
    hide_calls: int
    hide_history: list[HideEvent]
    page_replies: list[PageReply]
    seed_pii: list[str]
    created_at: float


class SeedRequest(msgspec.Struct, forbid_unknown_fields=True):
    seed: int = 1
    page_ids: list[str] | None = None
    posts_per_page: int = 5
    comments_per_post: int = 8
    personal_ratio: float = 0.45
    reply_ratio: float = 0.1
    ig_media_per_account: int = 3


class SeedOut(msgspec.Struct):
    seed: int
    pages: int
    posts: int
    comments: int
    personal: int
    ig_media: int
    ig_comments: int


class StreamCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Customer comments on one post of a page: ``storm`` (``comments`` over an evening from
    ``start``, a steep start then a decay, like Telenor's 3,000) or ``steady`` (``per_minute``
    for ``minutes`` from ``start``). Times are unix seconds; ``notify`` sends their webhooks."""

    page_id: str
    profile: Literal["storm", "steady"]
    start: int
    seed: int = 1
    post_id: str | None = None
    comments: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 3_000
    per_minute: Annotated[float, msgspec.Meta(gt=0, le=3_000)] = 5.0
    minutes: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 60
    personal_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.05
    reply_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.05
    reply_after: Annotated[int, msgspec.Meta(ge=0)] = 600
    notify: bool = False


class StreamOut(msgspec.Struct):
    post_id: str
    comments: int
    replies: int
    first: int | None
    last: int | None


class FaultCreate(msgspec.Struct, forbid_unknown_fields=True):
    # server_error: http_status (500 by default; a 4xx answers a non-transient refusal).
    # batch_error: a batch request (POST /) answered with one error for the whole batch
    # (http_status, 400 by default), as Meta does when it refuses the batch itself.
    kind: Literal["rate_limit", "server_error", "latency", "expire_token", "batch_error"]
    page_id: str | None = None
    after_calls: int = 0
    count: int | None = None
    code: int = 4
    http_status: int | None = None
    latency_ms: int = 0
    regain_minutes: int = 5
    # Only calls with this method, e.g. POST to fail hides and replies but not reads.
    method: Literal["GET", "POST", "DELETE"] | None = None


class FaultOut(msgspec.Struct):
    id: int
    kind: str
    page_id: str | None
    after_calls: int
    remaining: int | None
    code: int
    http_status: int | None
    latency_ms: int
    regain_minutes: int
    method: str | None
    seen: int


class ExpireTokens(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    page_id: str | None = None
    kind: Literal["user", "page"] | None = None


class Expired(msgspec.Struct):
    expired: int


class WebhookSettings(msgspec.Struct, forbid_unknown_fields=True):
    delay_seconds: float | None = None
    max_batch: int | None = None
    max_attempts: int | None = None


class WebhookSettingsOut(msgspec.Struct):
    delay_seconds: float
    max_batch: int
    max_attempts: int
    callback_url: str | None
    pending: int


class DeliveryOut(msgspec.Struct):
    id: int
    callback_url: str
    attempt: int
    status: int | None
    error: str | None
    entries: int
    changes: int
    body: str
    time: float


class CallOut(msgspec.Struct):
    seq: int
    time: float
    method: str
    path: str
    status: int
    params: dict[str, str]
    page_id: str | None
    error_code: int | None


class ResetOut(msgspec.Struct):
    pages: list[PageOut]


def _object_out(node: Node) -> ObjectOut:
    return ObjectOut(
        id=node.id,
        kind=node.kind,
        page_id=node.page_id,
        parent_id=node.parent_id,
        post_id=node.root_id,
        from_id=node.from_id,
        from_name=node.from_name,
        message=node.message,
        created_time=node.created_time,
        by_page=node.by_page,
        created_at=node.created_at,
    )


def _page_out(store: Store, page_id: str) -> PageOut:
    page = store.pages[page_id]
    return PageOut(
        id=page.id,
        name=page.name,
        category=page.category,
        tasks=list(page.tasks),
        instagram_business_account_id=page.ig_user_id,
        subscribed_fields=page.subscribed_apps.get(store.config.app_id, []),
    )


def _comment_state(store: Store, node: Node) -> CommentState:
    replies = [
        PageReply(n.id, n.message, n.created_time)
        for n in store.live_children(node.id)
        if n.by_page
    ]
    return CommentState(
        id=node.id,
        kind=node.kind,
        page_id=node.page_id,
        post_id=node.root_id,
        parent_id=node.parent_id,
        from_name=node.from_name,
        message=node.message,
        is_hidden=node.is_hidden,
        deleted=node.deleted,
        hide_calls=sum(1 for hidden, _ in node.hide_history if hidden),
        hide_history=[HideEvent(hidden, at) for hidden, at in node.hide_history],
        page_replies=replies,
        seed_pii=list(node.pii),
        created_at=node.created_at,
    )


def _fault_out(f: object) -> FaultOut:
    return msgspec.convert(f, FaultOut, from_attributes=True)


class SandboxController(Controller):
    """Drive and inspect the fake platform. ``store`` is injected as a dependency."""

    path = "/_sandbox"
    tags = ["sandbox"]

    @post("/reset", operation_id="sandbox_reset", status_code=200)
    async def reset(self, store: StoreDep) -> ResetOut:
        store.reset()
        return ResetOut([_page_out(store, pid) for pid in sorted(store.pages)])

    @post("/seed", operation_id="sandbox_seed", status_code=200)
    async def seed(self, store: StoreDep, data: JSONBody[SeedRequest]) -> SeedOut:
        if data.page_ids is not None:
            missing = [p for p in data.page_ids if p not in store.pages]
            if missing:
                raise NotFoundException(f"unknown pages: {missing}")
        summary = seed_store(
            store,
            data.seed,
            page_ids=data.page_ids,
            posts_per_page=data.posts_per_page,
            comments_per_post=data.comments_per_post,
            personal_ratio=data.personal_ratio,
            reply_ratio=data.reply_ratio,
            ig_media_per_account=data.ig_media_per_account,
        )
        return msgspec.convert(summary, SeedOut, from_attributes=True)

    @post("/streams", operation_id="sandbox_comment_stream", status_code=200)
    async def comment_stream(self, store: StoreDep, data: JSONBody[StreamCreate]) -> StreamOut:
        if data.page_id not in store.pages:
            raise NotFoundException(f"unknown page {data.page_id}")
        if data.post_id is not None and data.post_id not in store.nodes:
            raise NotFoundException(f"unknown post {data.post_id}")
        rng = random.Random(data.seed)
        times = (
            storm_times(rng, data.start, data.comments)
            if data.profile == "storm"
            else steady_times(rng, data.start, data.start + 60 * data.minutes, data.per_minute)
        )
        summary = seed_comment_stream(
            store,
            data.page_id,
            times,
            seed=data.seed,
            post_id=data.post_id,
            personal_ratio=data.personal_ratio,
            reply_ratio=data.reply_ratio,
            reply_after=data.reply_after,
            notify=data.notify,
        )
        return msgspec.convert(summary, StreamOut, from_attributes=True)

    @get("/pages", operation_id="sandbox_list_pages")
    async def list_pages(self, store: StoreDep) -> list[PageOut]:
        with store.lock:
            return [_page_out(store, pid) for pid in sorted(store.pages)]

    @post("/pages", operation_id="sandbox_create_page")
    async def create_page(self, store: StoreDep, data: JSONBody[PageCreate]) -> PageOut:
        page = store.create_page(
            data.name,
            category=data.category,
            link_instagram=data.link_instagram,
            ig_username=data.ig_username,
            tasks=data.tasks,
        )
        return _page_out(store, page.id)

    @post("/pages/{page_id:str}/tokens", operation_id="sandbox_page_token")
    async def page_token(self, store: StoreDep, page_id: FromPath[str]) -> TokenOut:
        if page_id not in store.pages:
            raise NotFoundException(f"unknown page {page_id}")
        token = store.new_token("page", user_id=store.user_id, page_id=page_id)
        return TokenOut(token.value, page_id)

    @post("/pages/{page_id:str}/posts", operation_id="sandbox_create_post")
    async def create_post(
        self, store: StoreDep, page_id: FromPath[str], data: JSONBody[PostCreate]
    ) -> ObjectOut:
        if page_id not in store.pages:
            raise NotFoundException(f"unknown page {page_id}")
        return _object_out(store.add_post(page_id, data.message, author_name=data.author_name))

    @post("/ig/{ig_user_id:str}/media", operation_id="sandbox_create_ig_media")
    async def create_media(
        self, store: StoreDep, ig_user_id: FromPath[str], data: JSONBody[MediaCreate]
    ) -> ObjectOut:
        if ig_user_id not in store.ig_users:
            raise NotFoundException(f"unknown Instagram account {ig_user_id}")
        return _object_out(store.add_ig_media(ig_user_id, data.caption))

    @post("/objects/{object_id:str}/comments", operation_id="sandbox_create_comment")
    async def create_comment(
        self, store: StoreDep, object_id: FromPath[str], data: JSONBody[CommentCreate]
    ) -> ObjectOut:
        node = store.nodes.get(object_id)
        if node is None or node.deleted:
            raise NotFoundException(f"unknown object {object_id}")
        if not data.author_name.strip():
            raise ValidationException("author_name must not be empty")
        return _object_out(store.add_comment(object_id, data.message, author_name=data.author_name))

    @post("/comments", operation_id="sandbox_create_comments", status_code=200)
    async def create_comments(
        self, store: StoreDep, data: JSONBody[CommentBatchCreate]
    ) -> CommentBatchOut:
        """Several customers comment in one request, in order. A benchmark's generator posts
        each tick's comments this way: one request per comment would cost the instrument more
        than the system it measures. Their webhooks batch like any comments made together."""
        with store.lock:
            for item in data.comments:
                node = store.nodes.get(item.object_id)
                if node is None or node.deleted:
                    raise NotFoundException(f"unknown object {item.object_id}")
                if not item.author_name.strip():
                    raise ValidationException("author_name must not be empty")
            created = [
                store.add_comment(item.object_id, item.message, author_name=item.author_name)
                for item in data.comments
            ]
            return CommentBatchOut(
                [CreatedComment(node.id, node.parent_id, node.created_at) for node in created]
            )

    def _comment(self, store: StoreDep, comment_id: str) -> Node:
        node = store.nodes.get(comment_id)
        if node is None or node.kind not in ("comment", "ig_comment"):
            raise NotFoundException(f"unknown comment {comment_id}")
        return node

    @get("/comments/{comment_id:str}", operation_id="sandbox_comment_state")
    async def comment_state(self, store: StoreDep, comment_id: FromPath[str]) -> CommentState:
        with store.lock:
            return _comment_state(store, self._comment(store, comment_id))

    @patch("/comments/{comment_id:str}", operation_id="sandbox_edit_comment")
    async def edit_comment(
        self, store: StoreDep, comment_id: FromPath[str], data: JSONBody[CommentEdit]
    ) -> ObjectOut:
        node = self._comment(store, comment_id)
        return _object_out(store.edit_message(node.id, data.message))

    @delete("/comments/{comment_id:str}", operation_id="sandbox_remove_comment", status_code=204)
    async def remove_comment(self, store: StoreDep, comment_id: FromPath[str]) -> None:
        node = self._comment(store, comment_id)
        store.delete_node(node.id)

    @get("/hidden", operation_id="sandbox_hidden_comments")
    async def hidden(
        self, store: StoreDep, page_id: FromQuery[str | None] = None
    ) -> list[CommentState]:
        with store.lock:
            return [
                _comment_state(store, n)
                for n in store.nodes.values()
                if n.kind in ("comment", "ig_comment")
                and n.is_hidden
                and not n.deleted
                and (page_id is None or n.page_id == page_id)
            ]

    @get("/replies", operation_id="sandbox_page_replies")
    async def replies(
        self, store: StoreDep, page_id: FromQuery[str | None] = None
    ) -> list[ObjectOut]:
        with store.lock:
            return [_object_out(n) for n in store.page_replies(page_id) if not n.deleted]

    @post("/faults", operation_id="sandbox_add_fault")
    async def add_fault(self, store: StoreDep, data: JSONBody[FaultCreate]) -> FaultOut:
        if data.kind == "rate_limit" and not (
            data.code in (4, 17, 32, 613) or 80000 <= data.code <= 80014
        ):
            raise ValidationException("rate_limit code must be 4, 17, 32, 613 or 80000-80014")
        fault = store.add_fault(
            kind=data.kind,
            page_id=data.page_id,
            after_calls=data.after_calls,
            remaining=data.count,
            code=data.code,
            http_status=data.http_status,
            latency_ms=data.latency_ms,
            regain_minutes=data.regain_minutes,
            method=data.method,
        )
        return _fault_out(fault)

    @get("/faults", operation_id="sandbox_list_faults")
    async def list_faults(self, store: StoreDep) -> list[FaultOut]:
        with store.lock:
            return [_fault_out(f) for f in store.faults]

    @delete("/faults", operation_id="sandbox_clear_faults", status_code=204)
    async def clear_faults(self, store: StoreDep) -> None:
        store.clear_faults()

    @post("/tokens/expire", operation_id="sandbox_expire_tokens", status_code=200)
    async def expire_tokens(self, store: StoreDep, data: JSONBody[ExpireTokens]) -> Expired:
        return Expired(store.expire_tokens(token=data.token, page_id=data.page_id, kind=data.kind))

    @put("/webhooks/settings", operation_id="sandbox_webhook_settings")
    async def webhook_settings(
        self, store: StoreDep, data: JSONBody[WebhookSettings]
    ) -> WebhookSettingsOut:
        with store.lock:
            if data.delay_seconds is not None:
                store.webhook_delay = max(0.0, data.delay_seconds)
            if data.max_batch is not None:
                store.webhook_max_batch = max(1, data.max_batch)
            if data.max_attempts is not None:
                store.webhook_max_attempts = max(1, data.max_attempts)
            return self._settings(store)

    @get("/webhooks/settings", operation_id="sandbox_get_webhook_settings")
    async def get_webhook_settings(self, store: StoreDep) -> WebhookSettingsOut:
        with store.lock:
            return self._settings(store)

    @staticmethod
    def _settings(store: Store) -> WebhookSettingsOut:
        subscription = store.app_subscriptions.get("page")
        return WebhookSettingsOut(
            delay_seconds=store.webhook_delay,
            max_batch=store.webhook_max_batch,
            max_attempts=store.webhook_max_attempts,
            callback_url=subscription.callback_url if subscription else None,
            pending=len(store.pending_events),
        )

    @get("/webhooks/deliveries", operation_id="sandbox_webhook_deliveries")
    async def deliveries(self, store: StoreDep) -> list[DeliveryOut]:
        with store.lock:
            return [msgspec.convert(d, DeliveryOut, from_attributes=True) for d in store.deliveries]

    @get("/calls", operation_id="sandbox_call_log")
    async def calls(
        self,
        store: StoreDep,
        method: FromQuery[str | None] = None,
        path: FromQuery[str | None] = None,
        since_seq: FromQuery[int] = 0,
    ) -> list[CallOut]:
        with store.lock:
            return [
                msgspec.convert(c, CallOut, from_attributes=True)
                for c in store.calls
                if c.seq > since_seq
                and (method is None or c.method == method.upper())
                and (path is None or path in c.path)
            ]

    @delete("/calls", operation_id="sandbox_clear_calls", status_code=204)
    async def clear_calls(self, store: StoreDep) -> None:
        with store.lock:
            store.calls.clear()
