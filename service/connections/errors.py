"""What can go wrong with a connection itself (as opposed to the platform behind it)."""

from __future__ import annotations

from service.errors import WallguardError


class NoPageToken(WallguardError):
    """The connection has no page token stored (never authorised, or revoked): nothing can be
    done on the platform for it until a user re-authorises the page."""

    status_code = 409
    title = "Connection needs re-authorisation"
    type_slug = "needs-reauth"
