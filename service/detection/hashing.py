"""Keyed fingerprints of found values, to match repeats and erasure requests blind."""

from __future__ import annotations

import hashlib
import hmac

from .types import Finding


def fingerprint(key: bytes, finding: Finding) -> str:
    """Hex HMAC-SHA256 of ``"{type}:{normalized}"`` under the tenant's ``key``.

    The same value found twice (in any writing: spaces, dots, ``+45``) gives the same
    fingerprint for one tenant and unrelated ones across tenants, so the value itself never
    needs to be stored.
    """
    if not key:
        raise ValueError("fingerprint key must not be empty")
    message = f"{finding.type}:{finding.normalized}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
