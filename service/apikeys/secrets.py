"""The API key format.

    wg_<tenant: 26 base32 chars><key id: 8 chars>_<secret: 43 base64url chars>

The tenant id travels inside the key, so authentication looks the key up inside that tenant's
row-level-security context (no cross-tenant read, and the key table stays shardable by tenant).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

import msgspec

_PREFIX = "wg_"
_TENANT_LEN = 26
_ID_LEN = 8
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class ParsedKey(msgspec.Struct, frozen=True):
    tenant_id: uuid.UUID
    prefix: str
    secret: str


def _tenant_part(tenant_id: uuid.UUID) -> str:
    return base64.b32encode(tenant_id.bytes).decode().rstrip("=").lower()


def generate(tenant_id: uuid.UUID) -> tuple[str, str, bytes]:
    """A new key: (full key to show once, visible prefix, hash to store)."""
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LEN))
    secret = secrets.token_urlsafe(32)
    return f"{_PREFIX}{_tenant_part(tenant_id)}{key_id}_{secret}", key_id, hash_secret(secret)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def parse(key: str) -> ParsedKey | None:
    if not key.startswith(_PREFIX) or len(key) > 200:
        return None
    head, sep, secret = key[len(_PREFIX) :].partition("_")
    if not sep or len(head) != _TENANT_LEN + _ID_LEN or not secret:
        return None
    try:
        raw = base64.b32decode(head[:_TENANT_LEN].upper() + "======")
        tenant_id = uuid.UUID(bytes=raw)
    except (ValueError, TypeError):
        return None
    return ParsedKey(tenant_id=tenant_id, prefix=head[_TENANT_LEN:], secret=secret)
