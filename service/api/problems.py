"""RFC 9457 problem details: the one way every error leaves the API.

Our own errors (``WallguardError``) carry their status, title and type; Litestar's are read from
its exception types: ``ValidationException.extra`` names each invalid value (key and source),
``HTTPException`` carries its status, and a body that is not JSON is a ``ClientException`` caused
by msgspec's decode error. No framework message text is parsed."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError

from service.api.fields import allowed_values
from service.api.middleware import CLIENT_CLOSED_REQUEST, CLIENT_GONE_KEY
from service.errors import FieldError, ServiceUnavailable, WallguardError
from service.inputs import explain

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "https://docs.wallguard.io/problems/"


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = msgspec.field(default_factory=list)
    request_id: str | None = None


def _response(
    request: Request[Any, Any, Any], problem: Problem, headers: dict[str, str] | None = None
) -> Response[Problem]:
    problem.instance = request.url.path
    problem.request_id = request.scope.get("state", {}).get("request_id")
    headers = dict(headers or {})
    if problem.request_id:
        # Errors raised in middleware are answered outside the request-id middleware.
        headers.setdefault("x-request-id", problem.request_id)
    return Response(
        problem, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def wallguard_error_handler(
    request: Request[Any, Any, Any], exc: WallguardError
) -> Response[Problem]:
    if exc.status_code >= 500:
        log.error("request_failed", error=type(exc).__name__)
    problem = Problem(
        type=_TYPE_BASE + exc.type_slug,
        title=exc.title,
        status=exc.status_code,
        detail=exc.detail,
        errors=exc.errors,
    )
    return _response(request, problem, exc.headers)


def _field_errors(extra: Any) -> list[FieldError]:
    """Litestar's validation extras (``{"message", "key", "source"}`` per invalid value) ->
    field paths. Body fields are JSON paths ($.a.b[0]); query and path parameters are named as
    such."""
    out: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        key = item.get("key")
        source = getattr(item.get("source"), "value", item.get("source"))
        if source in {"query", "path", "header", "cookie"} and key:
            field = f"{source}.{key}"
        else:
            field = "$" if not key or key == "data" else f"$.{key}"
        out.append(FieldError(field=field, message=explain(message)))
    return out


def _without_body(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("content-length", "0") == "0" and not request.headers.get(
        "transfer-encoding"
    )


def _with_allowed_values(
    request: Request[Any, Any, Any], errors: list[FieldError]
) -> list[FieldError]:
    out = []
    for error in errors:
        values = allowed_values(request, error.field)
        if values:
            error = FieldError(
                field=error.field, message=f"{error.message}; allowed: {', '.join(values)}"
            )
        out.append(error)
    return out


def validation_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Problem]:
    errors = _with_allowed_values(request, _field_errors(exc.extra))
    if _without_body(request) and any(e.field == "$" for e in errors):
        return _response(
            request,
            Problem(
                type=_TYPE_BASE + "malformed-body",
                title="Malformed request body",
                status=400,
                detail="This operation needs a JSON request body.",
            ),
        )
    # No field errors: Litestar's "missing required query parameter" (a body's problems always
    # name their fields), a fault of the request line like any other parameter's.
    if not errors or all(e.field.startswith(("query.", "path.", "header.")) for e in errors):
        status, title, slug = 400, "Invalid parameter", "invalid-parameter"
    else:
        status, title, slug = 422, "Validation failed", "validation"
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or str(exc.detail)
    return _response(
        request,
        Problem(type=_TYPE_BASE + slug, title=title, status=status, detail=detail, errors=errors),
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if request.scope.get("state", {}).get(CLIENT_GONE_KEY):
        # The client went away while its body was read: nobody reads this answer, and it is no
        # server error (the access log says 499).
        return _response(
            request,
            Problem(
                type=_TYPE_BASE + "client-closed-request",
                title="Client closed request",
                status=CLIENT_CLOSED_REQUEST,
                detail="The client closed the connection before the request was read.",
            ),
        )
    title = {
        404: "Not found",
        405: "Method not allowed",
        413: "Payload too large",
        401: "Unauthorized",
        403: "Forbidden",
        415: "Unsupported media type",
        429: "Too many requests",
    }.get(status, "Bad request" if status < 500 else "Server error")
    if status >= 500:
        log.error("request_failed", error=type(exc).__name__, status=status)
    detail = exc.detail if status < 500 else "An internal error occurred."
    slug = title.lower().replace(" ", "-")
    if isinstance(exc, ClientException) and exc.__cause__ is not None and status == 400:
        # A body that is not JSON at all (msgspec's decode error is the cause).
        title, slug = "Malformed request body", "malformed-body"
        detail = f"The request body is not valid JSON: {detail}"
    return _response(
        request,
        Problem(type=_TYPE_BASE + slug, title=title, status=status, detail=str(detail)),
        exc.headers or None,
    )


def unhandled_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Never echo the exception: it could carry a value from the database or a platform response.
    log.exception("unhandled_error", error=type(exc).__name__)
    return _response(
        request,
        Problem(
            type=_TYPE_BASE + "internal",
            title="Internal error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="An internal error occurred; it has been logged.",
        ),
    )


def database_error_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Problem]:
    """A lost database connection (Postgres restarted, a failover) is the service being briefly
    unavailable, not a fault of the request: 503 with ``Retry-After``. Other database errors
    are internal."""
    if not exc.connection_invalidated:
        return unhandled_error_handler(request, exc)
    log.warning("database_connection_lost", error=type(exc.orig).__name__)
    return wallguard_error_handler(
        request,
        ServiceUnavailable(
            "The database connection was lost; retry shortly.", headers={"Retry-After": "1"}
        ),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    WallguardError: wallguard_error_handler,
    DBAPIError: database_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    Exception: unhandled_error_handler,
}

# Problems the framework layer answers with (no WallguardError class): slug -> (status, meaning).
FRAMEWORK_PROBLEMS: dict[str, tuple[int, str]] = {
    "malformed-body": (400, "The body is missing or is not JSON."),
    "invalid-parameter": (400, "A path, query or header parameter is invalid; see `errors`."),
    "unauthorized": (401, "No API key, or a malformed, unknown, revoked or expired one."),
    "not-found": (404, "No such route, or no such resource in your tenant."),
    "method-not-allowed": (405, "The route exists but not with this method."),
    "payload-too-large": (413, "The body is larger than the API accepts."),
    "unsupported-media-type": (415, "The body is not sent as `application/json`."),
    "internal": (500, "Wallguard failed; the problem is logged under the `request_id`."),
}


def problem_types() -> dict[str, tuple[int, str, str]]:
    """Every problem ``type`` slug the API can answer with: slug -> (status, title, meaning).
    Read from the error classes (their docstrings say what each means), so a domain that adds
    an error documents it by writing its docstring."""
    found: dict[str, tuple[int, str, str]] = {
        slug: (status, slug.replace("-", " ").capitalize(), meaning)
        for slug, (status, meaning) in FRAMEWORK_PROBLEMS.items()
    }
    pending: list[type[WallguardError]] = [WallguardError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.type_slug == "configuration":  # stops a process from starting; never an answer
            continue
        doc = (cls.__doc__ or "").strip()
        meaning = " ".join(doc.split("\n\n")[0].split()) if doc else cls.title + "."
        if cls.type_slug not in found or cls.__doc__:
            found[cls.type_slug] = (cls.status_code, cls.title, meaning)
    return dict(sorted(found.items()))


def problem_type_uri(slug: str) -> str:
    return _TYPE_BASE + slug


_DESCRIPTIONS = {
    400: "Malformed body, invalid parameter or cursor",
    401: "Missing, malformed, revoked or expired API key",
    403: "The API key lacks the scope or is restricted to another client",
    404: "Not found (also for ids that belong to another tenant)",
    409: "Conflicts with an existing resource",
    413: "Body or text too large",
    415: "The body was not sent as JSON (`Content-Type: application/json`)",
    422: "The body failed validation; `errors` lists field paths",
    503: "A dependency is unavailable",
}


def problem_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems an operation can answer with."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[code],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for code in codes
    }
