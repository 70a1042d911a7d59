from __future__ import annotations

import hashlib
import hmac
import json

from hypothesis import given
from hypothesis import strategies as st

from service.platforms.signatures import sign_body, verify_signature


def test_sign_body_is_metas_header_format() -> None:
    body = b'{"object":"page"}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert sign_body("secret", body) == f"sha256={expected}"


def test_verify_accepts_only_the_right_secret_and_bytes() -> None:
    body = json.dumps({"message": "Kære kunde – ring på 20 20 10 17"}).encode()
    assert b"\\u00e6" in body  # json.dumps escapes non-ASCII, as Meta does
    header = sign_body("secret", body)
    assert verify_signature("secret", body, header)
    assert verify_signature("secret", body, header.upper().replace("SHA256=", "sha256="))
    assert not verify_signature("other", body, header)
    assert not verify_signature("secret", body + b" ", header)
    # the same JSON re-serialised without escaping is different bytes: must not verify
    unescaped = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert not verify_signature("secret", unescaped, header)


def test_verify_rejects_malformed_headers() -> None:
    body = b"{}"
    digest = sign_body("secret", body).removeprefix("sha256=")
    assert not verify_signature("secret", body, None)
    assert not verify_signature("secret", body, "")
    assert not verify_signature("secret", body, digest)  # no prefix
    assert not verify_signature("secret", body, "sha1=" + digest)
    assert not verify_signature("secret", body, "sha256=zz")
    assert not verify_signature("secret", body, "sha256=ø")
    assert not verify_signature("", body, sign_body("", body))  # no secret configured


@given(st.binary(), st.text(min_size=1))
def test_roundtrip(body: bytes, secret: str) -> None:
    assert verify_signature(secret, body, sign_body(secret, body))
