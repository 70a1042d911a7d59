"""The OAuth `state`: signed, expiring, bound to tenant and client.

The callback is reached by the user's browser without an API key; the state is what tells it
which tenant and client the pages belong to, so it must be unforgeable and short-lived.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

import msgspec

from service.errors import BadRequest

STATE_TTL_SECONDS = 15 * 60


class OAuthState(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    # Only these pages, when the start call named them; all the user's pages otherwise.
    page_ids: list[str] | None = None
    redirect_to: str | None = None
    actor: str
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(f"oauth-state:{secret}".encode(), payload, hashlib.sha256).digest()


def sign_state(secret: str, state: OAuthState) -> str:
    payload = msgspec.json.encode(state)
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify_state(secret: str, token: str, now: float | None = None) -> OAuthState:
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        mac = _unb64(mac_part)
    except ValueError:
        raise BadRequest("The OAuth state is malformed; start the connection again.") from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise BadRequest("The OAuth state is not one Wallguard issued.")
    try:
        state = msgspec.json.decode(payload, type=OAuthState)
    except msgspec.DecodeError:
        raise BadRequest("The OAuth state is malformed; start the connection again.") from None
    if state.expires < (now if now is not None else time.time()):
        raise BadRequest("The OAuth state has expired; start the connection again.")
    return state
