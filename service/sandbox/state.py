"""The sandbox's in-memory platform: users, pages, tokens, content, faults, call log.

Everything sits behind one re-entrant lock, so HTTP handlers (event loop), the webhook
deliverer and tests poking the store from another thread all see consistent state. Methods are
short and never await while holding the lock.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from service.sandbox.config import SandboxConfig
from service.sandbox.seed import COMPANIES

NodeKind = Literal["post", "comment", "ig_media", "ig_comment"]
TokenKind = Literal["user", "page", "app"]

ALL_TASKS: tuple[str, ...] = (
    "ANALYZE",
    "ADVERTISE",
    "MESSAGING",
    "MODERATE",
    "CREATE_CONTENT",
    "MANAGE",
)
SHORT_TOKEN_SECONDS = 5_400
LONG_TOKEN_SECONDS = 5_183_944
HOUR = 3_600.0


@dataclass
class Page:
    id: str
    name: str
    category: str
    owner_user_id: str
    tasks: tuple[str, ...] = ALL_TASKS
    ig_user_id: str | None = None
    # app id -> subscribed fields (the page's subscribed_apps edge)
    subscribed_apps: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class IgUser:
    id: str
    username: str
    page_id: str


@dataclass
class Node:
    """A post, comment, Instagram media or Instagram comment."""

    id: str
    kind: NodeKind
    page_id: str  # the Facebook page that owns it (for IG: the page linked to the account)
    parent_id: str  # page id for posts, ig user id for media, object id for comments
    root_id: str  # the post or media this belongs to (itself for posts and media)
    from_id: str
    from_name: str
    message: str
    created_time: int
    seq: int
    by_page: bool = False
    is_hidden: bool = False
    deleted: bool = False
    hide_history: list[tuple[bool, float]] = field(default_factory=list)
    pii: tuple[str, ...] = ()
    # When it was made, on the sandbox's clock to the microsecond (``created_time`` is Graph's
    # whole second): benchmarks measure time to hide from here, as the commenter sees it.
    # ``created_time`` itself for content seeded in the past; 0 in an older snapshot.
    created_at: float = 0.0

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.created_time, self.seq)


@dataclass
class Token:
    value: str
    kind: TokenKind
    user_id: str | None = None
    page_id: str | None = None
    expires_at: float | None = None
    expired: bool = False


@dataclass
class AuthCode:
    code: str
    user_id: str
    redirect_uri: str
    client_id: str
    scopes: tuple[str, ...]
    used: bool = False


@dataclass
class AppSubscription:
    object: str
    callback_url: str
    fields: list[str]
    verify_token: str
    include_values: bool = True


@dataclass
class Fault:
    """An injected failure; ``page_id`` None means every call."""

    id: int
    kind: Literal["rate_limit", "server_error", "latency", "expire_token", "batch_error"]
    page_id: str | None = None
    after_calls: int = 0
    remaining: int | None = None  # calls that fail; None: until cleared
    code: int = 4
    http_status: int | None = None
    latency_ms: int = 0
    regain_minutes: int = 5
    # Only calls with this HTTP method (e.g. "POST": hides and replies, not reads); None: all.
    method: str | None = None
    seen: int = 0

    def fires(self) -> bool:
        """Counts one call in scope; True when this call must fail."""
        self.seen += 1
        if self.seen <= self.after_calls:
            return False
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass
class CallRecord:
    seq: int
    time: float
    method: str
    path: str
    status: int
    params: dict[str, str]
    page_id: str | None = None
    error_code: int | None = None


@dataclass
class WebhookEvent:
    """One change waiting for delivery, as an ``entry`` item of a delivery for ``object``."""

    due: float
    entry_id: str  # the page, or for object "instagram" the Instagram account
    value: dict[str, Any]
    object: Literal["page", "instagram"] = "page"
    field: str = "feed"


@dataclass
class Delivery:
    id: int
    callback_url: str
    attempt: int
    status: int | None
    error: str | None
    entries: int
    changes: int
    body: str
    time: float


def encode_cursor(key: tuple[int, int]) -> str:
    raw = f"{key[0]}:{key[1]}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, seq = base64.urlsafe_b64decode(padded).decode("ascii").split(":")
        return int(created), int(seq)
    except (ValueError, UnicodeDecodeError):
        return None


class _Window:
    """Calls in the last hour, bucketed per minute, with a running total: adding and counting
    cost O(1) per call however many calls the hour holds (every Graph call does both)."""

    def __init__(self) -> None:
        self._buckets: deque[list[int]] = deque()  # [minute, calls]
        self._total = 0

    def add(self, now: float) -> None:
        minute = int(now // 60)
        if self._buckets and self._buckets[-1][0] == minute:
            self._buckets[-1][1] += 1
        else:
            self._buckets.append([minute, 1])
        self._total += 1

    def count(self, now: float) -> int:
        oldest = int(now // 60) - 59
        while self._buckets and self._buckets[0][0] < oldest:
            self._total -= self._buckets.popleft()[1]
        return self._total


class Store:
    """The whole fake platform. Public methods take the lock; ``_`` methods expect it held."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.webhook_delay = config.webhook_delay_seconds
        self.webhook_max_batch = config.webhook_max_batch
        self.webhook_max_attempts = config.webhook_max_attempts
        self.wakeup: Callable[[], None] = lambda: None
        self.reset()

    # --- lifecycle -------------------------------------------------------------------------

    def reset(self, *, populate: bool = True) -> None:
        """The platform as configured at start; ``populate`` False leaves it without pages (for
        a snapshot to fill)."""
        with self.lock:
            self.user_id = "10000000000001"
            self.user_name = self.config.user_name
            self.pages: dict[str, Page] = {}
            self.ig_users: dict[str, IgUser] = {}
            self.nodes: dict[str, Node] = {}
            # object id -> sorted [(created_time, seq, node id)] of direct children
            self.children: dict[str, list[tuple[int, int, str]]] = {}
            # Every comment under a post or media item, replies included, sorted as children
            # are: the ``filter=stream`` listing reads it a page at a time.
            self.streams: dict[str, list[tuple[int, int, str]]] = {}
            self.tokens: dict[str, Token] = {}
            self.page_tokens: dict[tuple[str, str], str] = {}  # (user token, page) -> token
            self.codes: dict[str, AuthCode] = {}
            self.app_subscriptions: dict[str, AppSubscription] = {}
            self.faults: list[Fault] = []
            self.calls: deque[CallRecord] = deque(maxlen=self.config.call_log_size)
            self.pending_events: list[WebhookEvent] = []
            self.deliveries: list[Delivery] = []
            self._app_window = _Window()
            self._page_windows: dict[str, _Window] = {}
            self._counter = self._first_id()
            self._seq = 0
            self._fault_ids = 0
            self._delivery_ids = 0
            self._call_seq = 0
            self.webhook_delay = self.config.webhook_delay_seconds
            if not populate:
                return
            for n in range(self.config.pages):
                company = COMPANIES[n % len(COMPANIES)]
                suffix = f" {n // len(COMPANIES) + 1}" if n >= len(COMPANIES) else ""
                self.create_page(
                    company.name + suffix,
                    category=company.category,
                    link_instagram=self.config.link_instagram,
                )

    def _first_id(self) -> int:
        """Where numbering starts. A sandbox that keeps its state in a file is one whose ids a
        Wallguard database may remember from an earlier life (a state file removed, a reset):
        it starts from the clock, so a fresh platform never hands out an id an earlier one did.
        Seconds x 10,000 stays below 5 x 10^13, the room between two id ranges, until 2128."""
        if self.config.state_file is None:
            return self.config.id_offset
        return max(self.config.id_offset, int(self.clock()) * 10_000)

    @property
    def id_counter(self) -> int:
        return self._counter

    @property
    def seq_counter(self) -> int:
        return self._seq

    def continue_ids(self, counter: int, seq: int) -> None:
        """Number new objects after ``counter`` (a restored snapshot's, plus room)."""
        with self.lock:
            self._counter = max(self._counter, counter)
            self._seq = max(self._seq, seq)

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def now(self) -> float:
        return self.clock()

    # --- pages, tokens ---------------------------------------------------------------------

    def create_page(
        self,
        name: str,
        *,
        category: str = "Telecommunication Company",
        link_instagram: bool = False,
        ig_username: str | None = None,
        tasks: Iterable[str] = ALL_TASKS,
    ) -> Page:
        with self.lock:
            n = self._next()
            page = Page(
                id=f"{100_000_000_000_000 + n}",
                name=name,
                category=category,
                owner_user_id=self.user_id,
                tasks=tuple(tasks),
            )
            self.pages[page.id] = page
            if link_instagram or ig_username:
                ig = IgUser(
                    id=f"{17_841_400_000_000_000 + n}",
                    username=ig_username or name.lower().replace(" ", "_").replace("'", ""),
                    page_id=page.id,
                )
                self.ig_users[ig.id] = ig
                page.ig_user_id = ig.id
            return page

    def new_token(
        self,
        kind: TokenKind,
        *,
        user_id: str | None = None,
        page_id: str | None = None,
        ttl: float | None = None,
    ) -> Token:
        with self.lock:
            prefix = {"user": "EAAU", "page": "EAAP", "app": "EAAA"}[kind]
            value = prefix + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")
            token = Token(
                value=value,
                kind=kind,
                user_id=user_id,
                page_id=page_id,
                expires_at=None if ttl is None else self.now() + ttl,
            )
            self.tokens[value] = token
            return token

    def page_token_for(self, user_token: str, page_id: str) -> str:
        """The page token /me/accounts hands out: stable per user token and page."""
        with self.lock:
            key = (user_token, page_id)
            if key not in self.page_tokens:
                user = self.tokens[user_token]
                self.page_tokens[key] = self.new_token(
                    "page", user_id=user.user_id, page_id=page_id
                ).value
            return self.page_tokens[key]

    def expire_tokens(
        self, *, token: str | None = None, page_id: str | None = None, kind: str | None = None
    ) -> int:
        with self.lock:
            count = 0
            for t in self.tokens.values():
                if token is not None and t.value != token:
                    continue
                if page_id is not None and t.page_id != page_id:
                    continue
                if kind is not None and t.kind != kind:
                    continue
                if t.kind == "app" and token is None:
                    continue
                t.expired = True
                count += 1
            return count

    # --- content ---------------------------------------------------------------------------

    def _insert_child(self, parent_id: str, node: Node) -> None:
        entry = (*node.sort_key, node.id)
        bisect.insort(self.children.setdefault(parent_id, []), entry)
        if node.kind in ("comment", "ig_comment"):
            bisect.insort(self.streams.setdefault(node.root_id, []), entry)

    def add_post(
        self,
        page_id: str,
        message: str,
        *,
        author_name: str | None = None,
        created_time: int | None = None,
        notify: bool = True,
    ) -> Node:
        """A page post (no author) or a visitor post (``author_name``)."""
        with self.lock:
            page = self.pages[page_id]
            n = self._next()
            created = self.now() if created_time is None else float(created_time)
            post_id = f"{page_id}_{200_000_000_000_000 + n}"
            by_page = author_name is None
            node = Node(
                id=post_id,
                kind="post",
                page_id=page_id,
                parent_id=page_id,
                root_id=post_id,
                from_id=page_id if by_page else self._person_id(author_name or ""),
                from_name=page.name if by_page else (author_name or ""),
                message=message,
                created_time=int(created),
                seq=self._next_seq(),
                by_page=by_page,
                created_at=created,
            )
            self.nodes[post_id] = node
            self._insert_child(page_id, node)
            if notify:
                self._emit(node, "add")
            return node

    def add_comment(
        self,
        object_id: str,
        message: str,
        *,
        author_name: str | None = None,
        created_time: int | None = None,
        notify: bool = True,
        pii: tuple[str, ...] = (),
    ) -> Node:
        """A customer's comment (``author_name``) or the page's own (None) on a post, comment
        or media item."""
        with self.lock:
            parent = self.nodes[object_id]
            n = self._next()
            created = self.now() if created_time is None else float(created_time)
            is_ig = parent.kind in ("ig_media", "ig_comment")
            by_page = author_name is None
            page = self.pages[parent.page_id]
            if is_ig:
                node_id = f"{17_950_000_000_000_000 + n}"
                ig = self.ig_users[page.ig_user_id or ""]
                from_id = ig.id if by_page else self._person_id(author_name or "")
                from_name = ig.username if by_page else self._username(author_name or "")
            else:
                post_part = parent.root_id.split("_", 1)[1]
                node_id = f"{post_part}_{300_000_000_000_000 + n}"
                from_id = page.id if by_page else self._person_id(author_name or "")
                from_name = page.name if by_page else (author_name or "")
            node = Node(
                id=node_id,
                kind="ig_comment" if is_ig else "comment",
                page_id=parent.page_id,
                parent_id=object_id,
                root_id=parent.root_id,
                from_id=from_id,
                from_name=from_name,
                message=message,
                created_time=int(created),
                seq=self._next_seq(),
                by_page=by_page,
                pii=pii,
                created_at=created,
            )
            self.nodes[node_id] = node
            self._insert_child(object_id, node)
            if notify:
                self._emit(node, "add")
            return node

    def add_ig_media(
        self, ig_user_id: str, caption: str, *, created_time: int | None = None
    ) -> Node:
        with self.lock:
            ig = self.ig_users[ig_user_id]
            n = self._next()
            created = self.now() if created_time is None else float(created_time)
            media_id = f"{17_900_000_000_000_000 + n}"
            node = Node(
                id=media_id,
                kind="ig_media",
                page_id=ig.page_id,
                parent_id=ig_user_id,
                root_id=media_id,
                from_id=ig.id,
                from_name=ig.username,
                message=caption,
                created_time=int(created),
                seq=self._next_seq(),
                by_page=True,
                created_at=created,
            )
            self.nodes[media_id] = node
            self._insert_child(ig_user_id, node)
            return node

    def set_hidden(self, node_id: str, hidden: bool) -> Node:
        with self.lock:
            node = self.nodes[node_id]
            node.hide_history.append((hidden, self.now()))
            changed = node.is_hidden != hidden
            node.is_hidden = hidden
            if changed:
                self._emit(node, "hide" if hidden else "unhide")
            return node

    def edit_message(self, node_id: str, message: str) -> Node:
        with self.lock:
            node = self.nodes[node_id]
            node.message = message
            self._emit(node, "edited")
            return node

    def delete_node(self, node_id: str) -> Node:
        with self.lock:
            node = self.nodes[node_id]
            node.deleted = True
            self._emit(node, "remove")
            return node

    def live_children(self, object_id: str) -> list[Node]:
        with self.lock:
            result = []
            for _, _, child_id in self.children.get(object_id, []):
                child = self.nodes[child_id]
                if not child.deleted:
                    result.append(child)
            return result

    def descendants(self, object_id: str) -> list[Node]:
        """All live comments under an object (replies included), chronological."""
        with self.lock:
            found: list[Node] = []
            stack = [object_id]
            while stack:
                current = stack.pop()
                for child in self.live_children(current):
                    found.append(child)
                    stack.append(child.id)
            found.sort(key=lambda node: node.sort_key)
            return found

    def page_replies(self, page_id: str | None = None) -> list[Node]:
        with self.lock:
            return [
                n
                for n in self.nodes.values()
                if n.kind in ("comment", "ig_comment")
                and n.by_page
                and (page_id is None or n.page_id == page_id)
            ]

    @staticmethod
    def _person_id(name: str) -> str:
        # Stable per name, so one customer keeps one id across comments.
        digest = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:12], 16) % 10**13
        return f"{5_000_000_000_000_000 + digest}"

    @staticmethod
    def _username(name: str) -> str:
        return "".join(ch for ch in name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")

    # --- webhooks --------------------------------------------------------------------------

    def _emit(self, node: Node, verb: str) -> None:
        if node.kind in ("post", "comment"):
            self._emit_feed(node, verb)
        elif node.kind == "ig_comment" and verb == "add":
            # Instagram notifies new comments only, not edits, removals or hides.
            self._emit_ig_comment(node)

    def _emit_feed(self, node: Node, verb: str) -> None:
        page = self.pages[node.page_id]
        subscription = self.app_subscriptions.get("page")
        fields = page.subscribed_apps.get(self.config.app_id, [])
        if subscription is None or "feed" not in fields or "feed" not in subscription.fields:
            return
        value: dict[str, Any] = {
            "from": {"id": node.from_id, "name": node.from_name},
            "created_time": node.created_time,
            "verb": verb,
            "post_id": node.root_id,
        }
        if node.kind == "comment":
            value["item"] = "comment"
            value["comment_id"] = node.id
            value["parent_id"] = node.parent_id
        else:
            value["item"] = "status" if node.by_page else "post"
            value["published"] = 1
        if verb in ("add", "edited"):
            value["message"] = node.message
        self._queue_event("page", "feed", node.page_id, value)

    def _emit_ig_comment(self, node: Node) -> None:
        """Meta's ``instagram`` object, field ``comments``: sent when the app subscribed to it
        and the page linked to the account has the app installed (any page field will do)."""
        page = self.pages[node.page_id]
        subscription = self.app_subscriptions.get("instagram")
        if (
            subscription is None
            or "comments" not in subscription.fields
            or self.config.app_id not in page.subscribed_apps
            or page.ig_user_id is None
        ):
            return
        value: dict[str, Any] = {
            "from": {"id": node.from_id, "username": node.from_name},
            "media": {"id": node.root_id, "media_product_type": "FEED"},
            "id": node.id,
        }
        if node.parent_id != node.root_id:
            value["parent_id"] = node.parent_id
        value["text"] = node.message
        self._queue_event("instagram", "comments", page.ig_user_id, value)

    def _queue_event(
        self,
        object_type: Literal["page", "instagram"],
        field_name: str,
        entry_id: str,
        value: dict[str, Any],
    ) -> None:
        self.pending_events.append(
            WebhookEvent(
                due=self.now() + self.webhook_delay,
                entry_id=entry_id,
                value=value,
                object=object_type,
                field=field_name,
            )
        )
        self.wakeup()

    def take_due_events(self) -> list[WebhookEvent]:
        with self.lock:
            now = self.now()
            due: list[WebhookEvent] = []
            waiting: list[WebhookEvent] = []
            for event in self.pending_events:
                (due if event.due <= now else waiting).append(event)
            if due:
                self.pending_events = waiting
            return due

    def record_delivery(self, **kwargs: Any) -> Delivery:
        with self.lock:
            self._delivery_ids += 1
            delivery = Delivery(id=self._delivery_ids, time=self.now(), **kwargs)
            self.deliveries.append(delivery)
            return delivery

    # --- faults, usage, call log -----------------------------------------------------------

    def add_fault(self, **kwargs: Any) -> Fault:
        with self.lock:
            self._fault_ids += 1
            fault = Fault(id=self._fault_ids, **kwargs)
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def firing_faults(
        self, page_id: str | None, method: str | None = None, *, batch: bool = False
    ) -> list[Fault]:
        """Faults in scope for a ``method`` call on ``page_id`` that fire for this call;
        ``batch``: the faults of a whole batch request (``batch_error``), not of one call."""
        with self.lock:
            return [
                f
                for f in self.faults
                if (f.kind == "batch_error") is batch
                and (f.page_id is None or f.page_id == page_id)
                and (f.method is None or method is None or f.method == method)
                and f.fires()
            ]

    def count_call(self, page_id: str | None) -> tuple[int, int | None]:
        """Counts a call; returns (app %, page %) of the rolling hourly quotas."""
        with self.lock:
            now = self.now()
            self._app_window.add(now)
            app_pct = self._app_window.count(now) * 100 // max(1, self.config.app_calls_per_hour)
            page_pct: int | None = None
            if page_id is not None:
                window = self._page_windows.setdefault(page_id, _Window())
                window.add(now)
                page_pct = window.count(now) * 100 // max(1, self.config.page_calls_per_hour)
            return min(100, app_pct), None if page_pct is None else min(100, page_pct)

    def log_call(self, **kwargs: Any) -> None:
        with self.lock:
            self._call_seq += 1
            self.calls.append(CallRecord(seq=self._call_seq, time=self.now(), **kwargs))
