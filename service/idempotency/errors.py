from __future__ import annotations

from service.errors import BadRequest, Conflict


class InvalidIdempotencyKey(BadRequest):
    """The Idempotency-Key header is empty, too long or not printable ASCII."""

    title = "Invalid idempotency key"
    type_slug = "invalid-idempotency-key"


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was used before with a different request (method, path or body)."""

    title = "Idempotency key reused"
    type_slug = "idempotency-key-reused"


class IdempotencyKeyInFlight(Conflict):
    """A request with this Idempotency-Key is still being processed: retry after it answers."""

    title = "Idempotency key in use"
    type_slug = "idempotency-key-in-flight"
