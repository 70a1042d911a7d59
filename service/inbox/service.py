"""What an inbound webhook delivery is: verified, decoded, and each change's identity.

Meta retries a delivery that is not answered 200 quickly, and may deliver the same change more
than once; the inbox row is written and committed before the 200, and its dedupe key makes a
redelivery a no-op. Storing and processing are pipeline steps (service/pipeline/inbox.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from service.connections.models import Platform
from service.errors import BadRequest, Unauthorized
from service.inbox.schemas import Change, Delivery
from service.platforms.signatures import verify_signature


def parse_delivery(app_secret: str, raw_body: bytes, signature: str | None) -> Delivery:
    """The delivery, once its ``X-Hub-Signature-256`` matches the raw body."""
    if not app_secret or not verify_signature(app_secret, raw_body, signature or ""):
        raise Unauthorized("The X-Hub-Signature-256 header does not match the body.")
    try:
        delivery = msgspec.json.decode(raw_body, type=Delivery)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The webhook body is not a Meta delivery: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("The webhook body is not a Meta delivery: it is not UTF-8.") from None
    except RecursionError:
        raise BadRequest("The webhook body is not a Meta delivery: it nests too deeply.") from None
    # What is stored in text columns (PostgreSQL refuses NUL in text); a comment's message may
    # hold anything, it is stored encrypted.
    for entry in delivery.entry:
        for change in entry.changes:
            stored = [
                entry.id,
                change.field,
                *change_ids(change.value),
                short(change.value.get("item")),
                short(change.value.get("verb")),
            ]
            if any(value is not None and "\x00" in value for value in stored):
                raise BadRequest("The webhook body is not a Meta delivery: an id holds NUL.")
    return delivery


def platform_of(delivery_object: str) -> Platform | None:
    return {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}.get(delivery_object)


def change_ids(value: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(object id, post id, parent id, sender id) of a feed or Instagram comments change."""
    sender = value.get("from")
    sender_id = str(sender.get("id")) if isinstance(sender, dict) and sender.get("id") else None
    object_id = value.get("comment_id") or value.get("post_id") or value.get("id")
    media = value.get("media")
    post_id = value.get("post_id") or (media.get("id") if isinstance(media, dict) else None)
    parent_id = value.get("parent_id")
    return (
        str(object_id) if object_id else None,
        str(post_id) if post_id else None,
        str(parent_id) if parent_id else None,
        sender_id,
    )


def dedupe_key(entry_id: str, change: Change) -> str:
    value = change.value
    identity = msgspec.json.encode(
        [
            entry_id,
            change.field,
            value.get("item"),
            value.get("verb"),
            value.get("comment_id") or value.get("id") or value.get("post_id"),
            value.get("created_time"),
            value.get("message") if value.get("verb") == "edited" else None,
        ]
    )
    return hashlib.sha256(identity).hexdigest()


def short(value: Any) -> str | None:
    return str(value)[:32] if value is not None else None
