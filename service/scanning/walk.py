"""The history walk: a page's posts (or Instagram media) and every comment under them, one
comment page at a time, from a checkpoint.

``history`` yields ``Batch``es (up to 100 comments and the checkpoint that follows them); the
scan job (service/pipeline/scans.py) hands each to the pipeline in one transaction and stores
its checkpoint with it, so a crash repeats at most one page. ``prefetch`` reads the next page
while the current one is handled. ``scan_lock`` keeps two jobs from walking the same scan.
Nothing here writes: the walk reads the platform and the checkpoint only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text

from service.connections.models import Platform
from service.db import Database
from service.platforms.comments import CommentView, comment_view
from service.platforms.errors import PlatformNotFound
from service.platforms.graph import GraphClient
from service.scanning.models import Scan
from service.scanning.schemas import Checkpoint

# Graph's maximum page sizes for the feed and for comments.
FEED_PAGE_SIZE = 100
COMMENT_PAGE_SIZE = 100
IG_MEDIA_PAGE_SIZE = 100
IG_COMMENT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Plan:
    connection_id: uuid.UUID
    platform: Platform
    external_id: str
    token: str
    since: dt.datetime | None
    until: dt.datetime | None
    checkpoint: Checkpoint

    def __repr__(self) -> str:  # the token must never reach a log line
        return f"Plan(connection_id={self.connection_id}, platform={self.platform.value})"


@dataclass(frozen=True, slots=True)
class Batch:
    """One page of comments and where the scan stands once it is committed."""

    comments: list[CommentView]
    checkpoint: Checkpoint
    posts_done: int
    final: bool


def checkpoint_of(scan: Scan) -> Checkpoint:
    try:
        return msgspec.convert(scan.checkpoint or {}, Checkpoint)
    except msgspec.ValidationError:
        # A checkpoint this code cannot read: start over (handling a comment twice is harmless).
        return Checkpoint()


def dump_checkpoint(checkpoint: Checkpoint) -> dict[str, Any]:
    dumped: dict[str, Any] = msgspec.to_builtins(checkpoint)
    return dumped


def _lock_key(scan_id: uuid.UUID) -> int:
    # The random tail of the UUIDv7 as a signed 64-bit advisory-lock key.
    return int.from_bytes(scan_id.bytes[8:], "big", signed=True)


@asynccontextmanager
async def scan_lock(db: Database, scan_id: uuid.UUID) -> AsyncIterator[bool]:
    """A session-level advisory lock on a connection of its own, held while a job walks the
    scan. Postgres drops it with the connection when a worker dies, so no lease can leak."""
    key = _lock_key(scan_id)
    async with db.engine.connect() as conn:
        acquired = bool(
            (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
        )
        await conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
                except BaseException:
                    # Never hand a connection that may still hold the lock back to the pool.
                    await conn.invalidate()
                    raise


async def history(graph: GraphClient, plan: Plan) -> AsyncIterator[Batch]:
    """The page's history from ``plan.checkpoint`` on: one ``Batch`` per comment page, with
    the checkpoint that follows it, the last one ``final``."""
    if plan.platform is Platform.INSTAGRAM:
        async for batch in _ig_batches(graph, plan):
            yield batch
        return
    feed_cursor = plan.checkpoint.feed_cursor
    resume_post = plan.checkpoint.post_id
    resume_comments = plan.checkpoint.comment_cursor
    while True:
        posts, next_feed = await graph.feed_page(
            plan.external_id,
            plan.token,
            after=feed_cursor,
            since=plan.since,
            until=plan.until,
            limit=FEED_PAGE_SIZE,
        )
        post_ids = [p.id for p in posts]
        async for batch in _post_batches(
            graph, plan, feed_cursor, next_feed, post_ids, resume_post, resume_comments
        ):
            yield batch
        resume_post = resume_comments = None
        if next_feed is None:
            return
        feed_cursor = next_feed


async def _post_batches(
    graph: GraphClient,
    plan: Plan,
    feed_cursor: str | None,
    next_feed: str | None,
    post_ids: Sequence[str],
    resume_post: str | None,
    resume_comments: str | None,
) -> AsyncIterator[Batch]:
    """The comment pages of one feed page's posts, each with the checkpoint after it."""
    if resume_post in post_ids:
        post_ids = post_ids[post_ids.index(resume_post) :]
    else:
        # The post to resume at is gone: take the whole feed page again (harmless).
        resume_comments = None
    if not post_ids:
        yield Batch([], Checkpoint(feed_cursor=next_feed), 0, final=next_feed is None)
        return
    for index, post_id in enumerate(post_ids):
        after = resume_comments if index == 0 else None
        while True:
            comments, after = await _comments_page(graph, plan, post_id, after)
            if after is not None:
                checkpoint = Checkpoint(
                    feed_cursor=feed_cursor, post_id=post_id, comment_cursor=after
                )
                yield Batch(comments, checkpoint, 0, final=False)
                continue
            following = post_ids[index + 1] if index + 1 < len(post_ids) else None
            if following is not None:
                checkpoint = Checkpoint(feed_cursor=feed_cursor, post_id=following)
            else:
                checkpoint = Checkpoint(feed_cursor=next_feed)
            final = following is None and next_feed is None
            yield Batch(comments, checkpoint, 1, final=final)
            break


async def _comments_page(
    graph: GraphClient, plan: Plan, post_id: str, after: str | None
) -> tuple[list[CommentView], str | None]:
    try:
        comments, cursor = await graph.comments_page(
            post_id,
            plan.token,
            after=after,
            filter="stream",
            order="chronological",
            limit=COMMENT_PAGE_SIZE,
        )
    except PlatformNotFound:
        return [], None  # the post was deleted while the scan ran
    return [comment_view(c, post_id=post_id) for c in comments], cursor


async def _ig_batches(graph: GraphClient, plan: Plan) -> AsyncIterator[Batch]:
    """Instagram: media stand in for posts (no since/until on the edge: filtered here)."""
    feed_cursor = plan.checkpoint.feed_cursor
    resume_post = plan.checkpoint.post_id
    resume_comments = plan.checkpoint.comment_cursor
    while True:
        media, next_feed = await graph.ig_media_page(
            plan.external_id, plan.token, after=feed_cursor, limit=IG_MEDIA_PAGE_SIZE
        )
        ids = [
            m.id
            for m in media
            if m.timestamp is None
            or (
                (plan.since is None or m.timestamp >= plan.since)
                and (plan.until is None or m.timestamp <= plan.until)
            )
        ]
        if resume_post in ids:
            ids = ids[ids.index(resume_post) :]
        else:
            resume_comments = None
        if not ids:
            yield Batch([], Checkpoint(feed_cursor=next_feed), 0, final=next_feed is None)
        for index, media_id in enumerate(ids):
            after = resume_comments if index == 0 else None
            while True:
                try:
                    comments, after = await graph.ig_comments_page(
                        media_id, plan.token, after=after, limit=IG_COMMENT_PAGE_SIZE
                    )
                except PlatformNotFound:
                    comments, after = [], None
                views = [comment_view(c, post_id=media_id) for c in comments]
                if after is not None:
                    checkpoint = Checkpoint(
                        feed_cursor=feed_cursor, post_id=media_id, comment_cursor=after
                    )
                    yield Batch(views, checkpoint, 0, final=False)
                    continue
                following = ids[index + 1] if index + 1 < len(ids) else None
                checkpoint = (
                    Checkpoint(feed_cursor=feed_cursor, post_id=following)
                    if following is not None
                    else Checkpoint(feed_cursor=next_feed)
                )
                final = following is None and next_feed is None
                yield Batch(views, checkpoint, 1, final=final)
                break
        resume_post = resume_comments = None
        if next_feed is None:
            return
        feed_cursor = next_feed


class Prefetched:
    """Iterates ``source`` one item ahead: the next page is fetched from the platform while
    the current one is handled and committed."""

    def __init__(self, source: AsyncIterator[Batch]) -> None:
        self._source = source
        self._next: asyncio.Task[Batch] | None = None

    def __aiter__(self) -> Prefetched:
        return self

    async def __anext__(self) -> Batch:
        task = self._next or asyncio.ensure_future(anext(self._source))
        self._next = None
        item = await task  # StopAsyncIteration ends the loop
        self._next = asyncio.ensure_future(anext(self._source))
        return item

    async def aclose(self) -> None:
        task, self._next = self._next, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(RuntimeError):
                await aclose()


def prefetch(source: AsyncIterator[Batch]) -> Prefetched:
    return Prefetched(source)
