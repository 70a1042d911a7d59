"""Errors an operator can fix, said in one line, with a non-zero exit and no traceback.

A database that does not exist or refuses connections, a Redis or an API that cannot be reached,
an API that refuses the request: the command names what it tried to reach (host, port and path,
never a password) and why, as the server or the system said it. Anything else is a defect and
keeps its traceback.

Only modules already imported are consulted: a command that never loaded the database driver
cannot have failed in it (and `wallguard detect` stays free of them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

EXIT_UNREACHABLE = 1


def where(url: str) -> str:
    """host:port/path of a URL, without credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        yield current
        original = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's
        if isinstance(original, BaseException):
            yield original
        current = current.__cause__ or current.__context__


def _raised_in(exc: BaseException, package: str) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if f"{os.sep}{package}{os.sep}" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _database_unusable(item: BaseException) -> bool:
    """Connecting failed: refused, unknown host, no such database, login refused, server full."""
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is not None and isinstance(
        item,
        asyncpg.exceptions.PostgresConnectionError
        | asyncpg.exceptions.InvalidCatalogNameError
        | asyncpg.exceptions.InvalidAuthorizationSpecificationError
        | asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.TooManyConnectionsError,
    ):
        return True
    return isinstance(item, OSError | TimeoutError) and (
        _raised_in(item, "asyncpg") or _raised_in(item, "sqlalchemy")
    )


def _api_url(item: BaseException) -> str:
    try:
        return str(item.request.url)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx: no request attached
        return "the API"


def describe(exc: BaseException) -> str | None:
    """The one line for ``exc``, or None when it is a defect."""
    progress = sys.modules.get("service.cli.progress")
    httpx = sys.modules.get("httpx")
    redis_exceptions = sys.modules.get("redis.exceptions")
    chain = list(_chain(exc))
    for item in chain:
        if progress is not None and isinstance(item, progress.ScanApiError):
            return f"the API refused the request (HTTP {item.status}): {item.detail}"
        if httpx is not None and isinstance(item, httpx.TransportError):
            return f"cannot reach the API at {where(_api_url(item))}: {_reason(item)}"
        if redis_exceptions is not None and isinstance(item, redis_exceptions.ConnectionError):
            url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
            return f"cannot reach Redis at {where(url)} (REDIS_URL): {_reason(item)}"
    # The innermost: the driver's own words ('database "x" does not exist', 'Connect call
    # failed ...'), not SQLAlchemy's wrapper around them.
    for item in reversed(chain):
        if _database_unusable(item):
            from service.settings import DEFAULT_DATABASE_URL

            url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
            return f"cannot use the database at {where(url)} (DATABASE_URL): {_reason(item)}"
    return None


def run_app(app: Callable[[], object]) -> None:
    """Run the Typer app; an error from ``describe`` exits 1 with its line on stderr."""
    try:
        app()
    except Exception as exc:
        line = describe(exc)
        if line is None:
            raise
        print(f"wallguard: {line}", file=sys.stderr)
        raise SystemExit(EXIT_UNREACHABLE) from None
