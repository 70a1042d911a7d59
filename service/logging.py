"""Structured logs: JSON lines with a request id, and nothing secret in them.

Call sites log event names and ids, never message text, tokens, keys or values found. As a second
line of defence a processor drops any field whose name says it holds a secret.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_FIELDS = ("token", "secret", "password", "authorization", "api_key", "message", "text")


def _drop_secrets(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key != "event" and any(word in key.lower() for word in _SECRET_FIELDS):
            event_dict[key] = "[redacted]"
    return event_dict


def render_exception(exc: BaseException) -> str:
    """A traceback without the exceptions' messages. Messages carry values: asyncpg names the
    parameter it could not encode ("invalid input for query argument $1: '+45 70 ...'"), a
    KeyError its key, a platform error the text it quoted. The frames (file, line, code) and the
    exception types are kept, which is what finding the bug needs."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts = []
    for item in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        kind = type(item)
        parts.append(f"{kind.__module__}.{kind.__qualname__}: [message withheld]\n")
    return "".join(parts).rstrip("\n")


def _exception_without_values(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog's ``format_exc_info``, with ``render_exception`` instead of the full text."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        event_dict["exception"] = render_exception(exc_info)
    elif isinstance(exc_info, tuple) and isinstance(exc_info[1], BaseException):
        event_dict["exception"] = render_exception(exc_info[1])
    return event_dict


class _WithheldMessages(logging.Formatter):
    """The same for libraries that log through stdlib logging (uvicorn, arq, SQLAlchemy)."""

    def formatException(self, ei: Any) -> str:
        return render_exception(ei[1]) if isinstance(ei[1], BaseException) else ""


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            _exception_without_values,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries that log through stdlib logging (uvicorn, arq, alembic) go to stderr as text; the
    # uvicorn access log is off because its lines carry query strings (OAuth codes).
    line = "%(levelname)s %(name)s %(message)s"
    logging.basicConfig(level=level, stream=sys.stderr, format=line)
    for handler in logging.getLogger().handlers:
        # Ours (basicConfig's), not a test runner's capturing handler.
        if type(handler) is logging.StreamHandler:
            handler.setFormatter(_WithheldMessages(line))
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request URL at INFO; Graph URLs carry tokens and OAuth codes (the Graph
    # client also redacts them, this keeps them out even if a new call site forgets).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
