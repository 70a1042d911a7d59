"""The sandbox's platform kept in a file, so a restarted demo finds the platform it left.

Meta does not forget: comments hidden yesterday are still hidden today, tokens stay valid, and a
new comment never gets an id an old one had. A sandbox that restarted empty broke all three
against a Wallguard database that remembers (`wallguard dev` keeps its database): the API showed
comments hidden that the sandbox showed visible, and new comments with recycled ids were never
hidden. So, when the sandbox is given a state file:

- it loads the file at start (and then does not seed again: the content is already there);
- it writes the file when its state changed (checked every ``SAVE_INTERVAL`` seconds, written to
  a temporary file and renamed, so a crash leaves the previous snapshot whole) and at shutdown;
- ids continue ``RESTART_ID_GAP`` past the snapshot's counter, so ids handed out after the last
  snapshot by a run that was killed are never handed out again.

Kept: users' pages and Instagram accounts, posts, comments (hidden, deleted, hide history),
tokens and authorisation codes, app webhook subscriptions, webhooks not yet delivered, webhook
settings. Not kept: faults, the call log, delivery records and usage windows (a test's or a
session's instruments, not the platform).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

import msgspec

from service.sandbox.state import (
    AppSubscription,
    AuthCode,
    IgUser,
    Node,
    Page,
    Store,
    Token,
    WebhookEvent,
)

FORMAT_VERSION = 1
SAVE_INTERVAL = 0.5
# Larger than any number of ids one run creates between two snapshots.
RESTART_ID_GAP = 1_000_000

log = logging.getLogger(__name__)


class SandboxStateError(Exception):
    """The state file exists but cannot be read as a sandbox snapshot."""


class Snapshot(msgspec.Struct, kw_only=True):
    version: int
    user_id: str
    user_name: str
    counter: int
    seq: int
    pages: list[Page]
    ig_users: list[IgUser]
    nodes: list[Node]
    tokens: list[Token]
    page_tokens: list[tuple[str, str, str]]
    codes: list[AuthCode]
    app_subscriptions: list[AppSubscription]
    pending_events: list[WebhookEvent]
    webhook_delay: float
    webhook_max_batch: int
    webhook_max_attempts: int


def snapshot(store: Store) -> Snapshot:
    with store.lock:
        return Snapshot(
            version=FORMAT_VERSION,
            user_id=store.user_id,
            user_name=store.user_name,
            counter=store.id_counter,
            seq=store.seq_counter,
            pages=list(store.pages.values()),
            ig_users=list(store.ig_users.values()),
            nodes=list(store.nodes.values()),
            tokens=list(store.tokens.values()),
            page_tokens=[(user, page, token) for (user, page), token in store.page_tokens.items()],
            codes=list(store.codes.values()),
            app_subscriptions=list(store.app_subscriptions.values()),
            pending_events=list(store.pending_events),
            webhook_delay=store.webhook_delay,
            webhook_max_batch=store.webhook_max_batch,
            webhook_max_attempts=store.webhook_max_attempts,
        )


def encode(store: Store) -> bytes:
    return msgspec.json.encode(snapshot(store))


def restore(store: Store, data: bytes) -> None:
    """Replace the store's platform with a snapshot's; ids continue past ``RESTART_ID_GAP``."""
    try:
        saved = msgspec.json.decode(data, type=Snapshot)
    except msgspec.DecodeError as exc:
        raise SandboxStateError(f"not a sandbox snapshot: {exc}") from None
    if saved.version != FORMAT_VERSION:
        raise SandboxStateError(f"snapshot format {saved.version}, expected {FORMAT_VERSION}")
    with store.lock:
        store.reset(populate=False)
        store.user_id = saved.user_id
        store.user_name = saved.user_name
        store.pages = {page.id: page for page in saved.pages}
        store.ig_users = {ig.id: ig for ig in saved.ig_users}
        store.nodes = {}
        store.children = {}
        store.streams = {}
        for node in sorted(saved.nodes, key=lambda n: n.sort_key):
            store.nodes[node.id] = node
            # In sort order: each insert lands at the end of its indexes.
            store._insert_child(node.parent_id, node)
        store.tokens = {token.value: token for token in saved.tokens}
        store.page_tokens = {(user, page): token for user, page, token in saved.page_tokens}
        store.codes = {code.code: code for code in saved.codes}
        store.app_subscriptions = {s.object: s for s in saved.app_subscriptions}
        store.pending_events = list(saved.pending_events)
        store.webhook_delay = saved.webhook_delay
        store.webhook_max_batch = saved.webhook_max_batch
        store.webhook_max_attempts = saved.webhook_max_attempts
        store.continue_ids(saved.counter + RESTART_ID_GAP, saved.seq + RESTART_ID_GAP)


def load(store: Store, path: Path) -> bool:
    """Restore ``store`` from ``path``; False when there is no file yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SandboxStateError(f"cannot read {path}: {exc}") from None
    try:
        restore(store, data)
    except SandboxStateError as exc:
        raise SandboxStateError(f"{path}: {exc}; remove it to start afresh") from None
    return True


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class StateSaver:
    """Writes the store to ``path`` whenever it changed, and once more when stopped."""

    def __init__(self, store: Store, path: Path, interval: float = SAVE_INTERVAL) -> None:
        self.store = store
        self.path = path
        self.interval = interval
        self._written: bytes | None = None
        self._task: asyncio.Task[None] | None = None

    def save(self) -> None:
        # Encoding the demo's few hundred objects takes well under a millisecond; comparing the
        # bytes spares a mutation counter in every method that changes the store.
        data = encode(self.store)
        if data != self._written:
            write_atomically(self.path, data)
            self._written = data

    async def start(self) -> None:
        self.save()
        self._task = asyncio.create_task(self._run(), name="sandbox-state-saver")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.save()
            except OSError:
                # A full disk must not stop the platform; the next round tries again.
                log.exception("could not save the sandbox state to %s", self.path)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.save()
