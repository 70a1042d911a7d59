"""One error hierarchy for the whole service.

Every expected failure is a ``WallguardError`` subclass carrying its HTTP status; the API renders
them as RFC 9457 ``application/problem+json`` (service/api/problems.py). Workers and the CLI use the
same classes, so a domain service never needs to know who called it. A domain with failures of its
own subclasses these in ``service/<domain>/errors.py`` (raise the most specific one; the API
renders any of them the same way).

    WallguardError
    ├── ConfigurationError         (process cannot start: bad environment)
    ├── BadRequest            400
    │   ├── ValidationFailed  422  (field paths in ``errors``)
    │   └── InvalidCursor     400
    ├── Unauthorized          401
    ├── Forbidden             403
    ├── NotFound              404  (also for another tenant's ids: existence is not leaked)
    ├── Conflict              409
    ├── PayloadTooLarge       413
    ├── ServiceUnavailable    503
    ├── connections.errors.NoPageToken      409  (nothing stored to call the platform with)
    └── platforms.errors.PlatformError      502  (the platform refused or failed a call)
        ├── TokenInvalid, RateLimited, PermissionMissing, PlatformUnavailable
        └── PlatformBadRequest, PlatformNotFound
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: ``field`` is a JSON path such as ``$.scopes[1]``."""

    field: str
    message: str


class WallguardError(Exception):
    status_code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    # A stable, documented problem type; the URI need not resolve.
    type_slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = list(errors)
        self.headers = headers or {}
        super().__init__(self.detail)


class ConfigurationError(WallguardError):
    title = "Configuration error"
    type_slug = "configuration"


class BadRequest(WallguardError):
    status_code = 400
    title = "Bad request"
    type_slug = "bad-request"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
    type_slug = "invalid-cursor"


class ValidationFailed(BadRequest):
    status_code = 422
    title = "Validation failed"
    type_slug = "validation"


class Unauthorized(WallguardError):
    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="wallguard"'})


class Forbidden(WallguardError):
    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(WallguardError):
    status_code = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(WallguardError):
    status_code = 409
    title = "Conflict"
    type_slug = "conflict"


class PayloadTooLarge(WallguardError):
    status_code = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class ServiceUnavailable(WallguardError):
    status_code = 503
    title = "Service unavailable"
    type_slug = "unavailable"
