"""Typed results of Graph API calls (what the service sees; Graph's wire names stay in graph.py)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class UserToken(msgspec.Struct, frozen=True):
    """A user access token from the code exchange or the long-lived exchange."""

    access_token: str
    token_type: str = "bearer"
    # Seconds from now; None when Graph did not say (long-lived tokens sometimes omit it).
    expires_in: int | None = None

    def __repr__(self) -> str:  # tokens must never reach logs through a repr
        return f"UserToken(token_type={self.token_type!r}, expires_in={self.expires_in})"


class PageAccount(msgspec.Struct, frozen=True):
    """A page the user can manage (``/me/accounts``), with its own page access token."""

    id: str
    name: str
    access_token: str
    tasks: tuple[str, ...] = ()
    instagram_business_account_id: str | None = None

    @property
    def can_moderate(self) -> bool:
        # Comment ids are withheld unless the user has the MODERATE task on the page.
        return "MODERATE" in self.tasks

    def __repr__(self) -> str:
        return (
            f"PageAccount(id={self.id!r}, name={self.name!r}, tasks={self.tasks!r}, "
            f"instagram_business_account_id={self.instagram_business_account_id!r})"
        )


class SubscribedApp(msgspec.Struct, frozen=True):
    """One app installed on a page (``/{page-id}/subscribed_apps``)."""

    id: str
    name: str | None = None
    subscribed_fields: tuple[str, ...] = ()


class Post(msgspec.Struct, frozen=True):
    """A page post or a visitor post on the page's feed."""

    id: str
    message: str | None
    created_time: datetime | None
    from_id: str | None = None
    from_name: str | None = None
    permalink_url: str | None = None


class Comment(msgspec.Struct, frozen=True):
    """A Facebook comment or reply. ``post_id`` is known when listed under a post."""

    id: str
    message: str | None
    from_id: str | None
    from_name: str | None
    created_time: datetime | None
    is_hidden: bool | None = None
    can_hide: bool | None = None
    permalink_url: str | None = None
    parent_id: str | None = None
    post_id: str | None = None


class IgMedia(msgspec.Struct, frozen=True):
    id: str
    caption: str | None
    timestamp: datetime | None
    media_type: str | None = None
    permalink: str | None = None
    comments_count: int | None = None


class IgComment(msgspec.Struct, frozen=True):
    id: str
    text: str | None
    username: str | None
    from_id: str | None
    timestamp: datetime | None
    hidden: bool | None = None
    parent_id: str | None = None
    media_id: str | None = None


class AppUsage(msgspec.Struct, frozen=True):
    """``X-App-Usage``: percentages of the app's rolling one-hour quota."""

    call_count: float = 0
    total_cputime: float = 0
    total_time: float = 0

    @property
    def peak(self) -> float:
        return max(self.call_count, self.total_cputime, self.total_time)


class BusinessUsage(msgspec.Struct, frozen=True):
    """One entry of ``X-Business-Use-Case-Usage`` for a page (Meta's key is the page id)."""

    type: str = "pages"
    call_count: float = 0
    total_cputime: float = 0
    total_time: float = 0
    # Minutes until the quota is back, 0 when not throttled.
    estimated_time_to_regain_access: float = 0

    @property
    def peak(self) -> float:
        return max(self.call_count, self.total_cputime, self.total_time)


class Usage(msgspec.Struct, frozen=True):
    """The last usage the platform reported: app-wide and per page id."""

    app: AppUsage | None = None
    pages: dict[str, BusinessUsage] = msgspec.field(default_factory=dict)

    def peak_for(self, page_id: str | None) -> float:
        """The highest percentage that applies to a call for ``page_id`` (or app-only)."""
        peak = self.app.peak if self.app else 0.0
        if page_id is not None and page_id in self.pages:
            peak = max(peak, self.pages[page_id].peak)
        return peak
