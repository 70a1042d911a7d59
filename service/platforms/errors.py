"""What can go wrong when talking to a platform, in terms the service can act on.

The Graph API reports failures as ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}``; callers should not need to know Meta's numbers, only what to do next:

    PlatformError                 anything the platform refused or could not do
    ├── TokenInvalid              190/102: the connection needs re-authorisation
    ├── RateLimited               4, 17, 32, 613, 80001-80014: wait ``retry_after`` seconds
    ├── PermissionMissing         10, 200-299: a permission or page task is missing
    ├── PlatformUnavailable       5xx, timeouts, transient codes (already retried by the client)
    ├── PlatformBadRequest        100 and other caller mistakes
    └── PlatformNotFound          100/33, 803: the object is gone or not visible to this token

Messages never carry access tokens: the client builds them from Graph's own message and a
redacted request path.
"""

from __future__ import annotations

from typing import ClassVar

from service.errors import WallguardError


class PlatformError(WallguardError):
    """Base class. ``code``/``subcode``/``fbtrace_id`` are Graph's, when it sent them.

    Under ``WallguardError`` so that one that escapes a caller renders as a 502 problem; its
    ``detail`` names the failure by Graph's numbers only (``message`` may quote request content
    and is for logs of the client only)."""

    status_code: ClassVar[int] = 502
    title: ClassVar[str] = "Platform error"
    type_slug: ClassVar[str] = "platform"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        super().__init__(f"The platform failed the call (http {status}, code {code}).")
        self.args = (message,)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code}, "
            f"subcode={self.subcode}, fbtrace_id={self.fbtrace_id!r})"
        )


class TokenInvalid(PlatformError):
    """The token expired, was revoked, or the user changed password: ask the user again."""


class RateLimited(PlatformError):
    """A quota is exhausted. ``retry_after`` is the platform's estimate in seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            subcode=subcode,
            error_type=error_type,
            fbtrace_id=fbtrace_id,
        )
        self.retry_after = retry_after


class PermissionMissing(PlatformError):
    """The token lacks a permission (``permission`` when Meta names it) or a page task."""

    def __init__(
        self,
        message: str,
        *,
        permission: str | None = None,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            subcode=subcode,
            error_type=error_type,
            fbtrace_id=fbtrace_id,
        )
        self.permission = permission


class PlatformUnavailable(PlatformError):
    """5xx, timeouts, connection failures: transient, and still failing after the retries."""


class PlatformBadRequest(PlatformError):
    """The request itself is wrong (Graph code 100 and friends): retrying will not help."""


class PlatformNotFound(PlatformError):
    """The object does not exist any more, or this token may not see it."""
