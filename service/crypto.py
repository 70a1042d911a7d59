"""Encryption at rest (AES-256-GCM) with key rotation, and keyed hashing of personal data.

WALLGUARD_ENCRYPTION_KEYS is a comma-separated list; the first key encrypts, all keys decrypt, so
rotation is: prepend a new key, run `wallguard keys rotate`, then drop the old key. Each ciphertext
names the key that made it (a 4-byte key id) and is bound to its tenant and purpose through the
associated data, so a ciphertext copied to another tenant's row does not decrypt.

    blob = b"\\x01" + key_id(4) + nonce(12) + AESGCM(ciphertext + tag)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.errors import ConfigurationError

_VERSION = b"\x01"


class DecryptionError(Exception):
    """The blob was not made by any configured key for this tenant and purpose."""


def _key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigurationError(
            "each WALLGUARD_ENCRYPTION_KEYS entry must be 32 bytes, url-safe base64 "
            "(make one with `wallguard keys generate`)"
        )
    return raw


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


class Cipher:
    def __init__(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ConfigurationError("at least one encryption key is required")
        self._keys: list[tuple[bytes, AESGCM]] = []
        for key in keys:
            raw = _key_bytes(key)
            self._keys.append((hashlib.sha256(raw).digest()[:4], AESGCM(raw)))
        self.primary_key_id = self._keys[0][0]

    @staticmethod
    def _aad(tenant_id: uuid.UUID, purpose: str) -> bytes:
        return f"wallguard:{purpose}:{tenant_id}".encode()

    def encrypt(self, plaintext: bytes, *, tenant_id: uuid.UUID, purpose: str) -> bytes:
        key_id, aead = self._keys[0]
        nonce = os.urandom(12)
        return (
            _VERSION
            + key_id
            + nonce
            + aead.encrypt(nonce, plaintext, self._aad(tenant_id, purpose))
        )

    def decrypt(self, blob: bytes, *, tenant_id: uuid.UUID, purpose: str) -> bytes:
        if len(blob) < 1 + 4 + 12 + 16 or blob[:1] != _VERSION:
            raise DecryptionError("not a Wallguard ciphertext")
        key_id, nonce, body = blob[1:5], blob[5:17], blob[17:]
        for candidate_id, aead in self._keys:
            if candidate_id == key_id:
                try:
                    return aead.decrypt(nonce, body, self._aad(tenant_id, purpose))
                except Exception:
                    break
        raise DecryptionError("no configured key decrypts this value")

    def needs_rotation(self, blob: bytes) -> bool:
        return blob[1:5] != self.primary_key_id

    def encrypt_text(self, text: str, *, tenant_id: uuid.UUID, purpose: str) -> bytes:
        return self.encrypt(text.encode(), tenant_id=tenant_id, purpose=purpose)

    def decrypt_text(self, blob: bytes, *, tenant_id: uuid.UUID, purpose: str) -> str:
        return self.decrypt(blob, tenant_id=tenant_id, purpose=purpose).decode()


def tenant_hash_key(secret_key: str, tenant_id: uuid.UUID) -> bytes:
    """The per-tenant key for fingerprints of personal data (repeat and erasure matching).
    Derived, not stored: the same value hashes differently in two tenants."""
    return hmac.new(
        secret_key.encode(), f"fingerprint:{tenant_id}".encode(), hashlib.sha256
    ).digest()
