"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>``.

The HMAC covers the exact bytes on the wire. Meta escapes non-ASCII characters as ``\\uXXXX``
in the body it signs, so a receiver must verify the raw bytes it got, never a re-serialisation.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign_body(secret: str, raw_body: bytes) -> str:
    """The header value Meta would send for ``raw_body``: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` is a valid signature of ``raw_body``; constant-time comparison."""
    if not header or not secret:
        return False
    header = header.strip()
    if not header.lower().startswith(_PREFIX):
        return False
    received = header[len(_PREFIX) :].strip().lower()
    expected = sign_body(secret, raw_body)[len(_PREFIX) :]
    return hmac.compare_digest(received.encode("ascii", "replace"), expected.encode("ascii"))
