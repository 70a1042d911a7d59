from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned


class TrackedComment(TenantOwned, Base):
    """A comment on a connected page, as response times need it: a customer's comment waiting
    for (or given) the page's first reply, or one of the page's own replies (``by_page``) that
    answers the customer comments of its thread. Ids and times only: never text or author."""

    __tablename__ = "tracked_comments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connection_id", "comment_id"),
        ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            ondelete="CASCADE",
        ),
        # A thread's comments and replies, when the tracker links replies to comments.
        Index("ix_tracked_comments_thread", "tenant_id", "connection_id", "thread_id"),
        # Reports per period, storm windows and baselines per connection.
        Index(
            "ix_tracked_comments_customer_time",
            "tenant_id",
            "connection_id",
            "commented_at",
            postgresql_where=text("NOT by_page"),
        ),
        # The storm watcher's look across tenants at the last minutes.
        Index("ix_tracked_comments_recent", "commented_at", postgresql_where=text("NOT by_page")),
        # What the tracker has not looked at yet.
        Index(
            "ix_tracked_comments_unprocessed",
            "tenant_id",
            "connection_id",
            postgresql_where=text("NOT processed"),
        ),
        # Promises about to break (response.overdue).
        Index(
            "ix_tracked_comments_deadline",
            "deadline_at",
            postgresql_where=text("overdue_at IS NULL AND NOT by_page"),
        ),
        # /v1/unanswered, oldest first.
        Index(
            "ix_tracked_comments_waiting",
            "tenant_id",
            "commented_at",
            postgresql_where=text("first_reply_at IS NULL AND NOT by_page"),
        ),
    )

    connection_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    comment_id: Mapped[str] = mapped_column(String(128))
    post_id: Mapped[str | None] = mapped_column(String(128))
    # The top-level comment the conversation hangs under (the comment itself when top-level).
    thread_id: Mapped[str] = mapped_column(String(128))
    by_page: Mapped[bool]
    # The platform's creation time (when it lacks one: when Wallguard received it).
    commented_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    # Set by the tracker (service/responses/steps.py) once it has applied the terms and linked
    # the thread; the hot path only inserts.
    processed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    promise_minutes: Mapped[int | None]
    # The last instant a first reply keeps the promise (service/servicehours/arithmetic.py).
    deadline_at: Mapped[dt.datetime | None]
    counts_when_hidden: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    first_reply_at: Mapped[dt.datetime | None]
    reply_comment_id: Mapped[str | None] = mapped_column(String(128))
    # Seconds from comment to first reply that fell within service hours.
    response_seconds: Mapped[float | None]
    # When the broken promise was noticed (response.overdue is sent once, then).
    overdue_at: Mapped[dt.datetime | None]
