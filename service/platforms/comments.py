"""A comment as Wallguard handles it, whatever brought it: a webhook event, a poll of recent
posts or a backfill's walk of a page's history."""

from __future__ import annotations

from datetime import datetime

import msgspec

from service.platforms.schemas import Comment, IgComment


class CommentView(msgspec.Struct, frozen=True, kw_only=True):
    """A comment as the pipeline needs it, whatever the source (webhook, poll, scan)."""

    comment_id: str
    post_id: str | None
    parent_id: str | None
    message: str | None
    author_id: str | None
    created_time: datetime | None
    permalink_url: str | None
    is_hidden: bool | None = None


def comment_view(comment: Comment | IgComment, *, post_id: str | None = None) -> CommentView:
    """A comment read from the platform as the pipeline sees it. ``post_id``: the post or media
    it was read under, for what the platform leaves out (a top-level comment's parent is its
    post, as in webhook events)."""
    if isinstance(comment, IgComment):
        return CommentView(
            comment_id=comment.id,
            post_id=comment.media_id or post_id,
            parent_id=comment.parent_id or post_id,
            message=comment.text,
            author_id=comment.from_id,
            created_time=comment.timestamp,
            permalink_url=None,
            is_hidden=comment.hidden,
        )
    return CommentView(
        comment_id=comment.id,
        post_id=comment.post_id or post_id,
        parent_id=comment.parent_id or post_id,
        message=comment.message,
        author_id=comment.from_id,
        created_time=comment.created_time,
        permalink_url=comment.permalink_url,
        is_hidden=comment.is_hidden,
    )
