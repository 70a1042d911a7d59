"""The request class of the API: JSON bodies are JSON, or a clear 4xx.

Litestar decodes a body as JSON for every operation that takes one, whatever its content type,
and lets two decoder failures through as server errors: a body that is not UTF-8 (msgspec raises
``UnicodeDecodeError``) and one nested deeper than the decoder's recursion limit
(``RecursionError``). Here a body with another content type (or none) is 415, and both failures
are the same malformed-body 400 as any other JSON that does not parse.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, SerializationException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

JSON_MEDIA_TYPES = frozenset({"application/json"})


class UnsupportedMediaType(HTTPException):
    status_code = HTTP_415_UNSUPPORTED_MEDIA_TYPE


def is_json(content_type: str) -> bool:
    """application/json, or a structured syntax suffix (application/merge-patch+json ...)."""
    media_type = content_type.strip().lower()
    return media_type in JSON_MEDIA_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class ApiRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        media_type, _ = self.content_type
        if not is_json(media_type):
            raise UnsupportedMediaType(
                "Send the body as JSON with `Content-Type: application/json`"
                + (f" (not {media_type})." if media_type else ".")
            )
        try:
            return await super().json()
        except UnicodeDecodeError:
            # Litestar answers a SerializationException as a 400 about the body.
            raise SerializationException("the body is not UTF-8") from None
        except RecursionError:
            raise SerializationException("the body is nested too deeply") from None
