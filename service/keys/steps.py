"""Encryption keys at rest: re-encrypting every stored secret with the newest key.

Each table that stores ciphertext is listed once in ``_TARGETS`` with the purpose its values
are bound to; a domain that adds an encrypted column adds its line here. ``wallguard keys
rotate`` runs ``rotate_encryption``: a step (it takes the ``Database`` and commits batch by
batch, so a large table is never locked in one long transaction) and system work (it crosses
tenants).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_

from service.auth.types import TenantId
from service.connections.models import Connection
from service.connections.service import TOKEN_PURPOSE
from service.crypto import Cipher
from service.db import Database
from service.findings.models import EXCERPT_PURPOSE, Finding
from service.inbox.models import PAYLOAD_PURPOSE, InboxEvent
from service.webhooks.models import SECRET_PURPOSE, WebhookEndpoint

# (model, column, attribute, purpose) of every encrypted column.
_TARGETS: list[tuple[Any, Any, str, str]] = [
    (Connection, Connection.token_ciphertext, "token_ciphertext", TOKEN_PURPOSE),
    (InboxEvent, InboxEvent.payload_ciphertext, "payload_ciphertext", PAYLOAD_PURPOSE),
    (Finding, Finding.masked_excerpt_ciphertext, "masked_excerpt_ciphertext", EXCERPT_PURPOSE),
    (WebhookEndpoint, WebhookEndpoint.secret_ciphertext, "secret_ciphertext", SECRET_PURPOSE),
    (
        WebhookEndpoint,
        WebhookEndpoint.previous_secret_ciphertext,
        "previous_secret_ciphertext",
        SECRET_PURPOSE,
    ),
]


async def rotate_encryption(
    db: Database, cipher: Cipher, batch: int = 500, tenant_id: TenantId | None = None
) -> int:
    """Re-encrypt every stored secret (of one tenant, or all) with the first configured key;
    returns how many changed. Run after prepending a new key to WALLGUARD_ENCRYPTION_KEYS, before
    removing the old one."""
    changed = 0
    model: Any
    for model, column, attribute, purpose in _TARGETS:
        last: tuple[uuid.UUID, uuid.UUID] | None = None
        while True:
            async with db.system_unit_of_work() as uow:
                stmt = select(model).where(column.is_not(None))
                if tenant_id is not None:
                    stmt = stmt.where(model.tenant_id == tenant_id)
                if last is not None:
                    stmt = stmt.where(tuple_(model.tenant_id, model.id) > tuple_(*last))
                rows = (
                    await uow.session.scalars(
                        stmt.order_by(model.tenant_id, model.id).limit(batch).with_for_update()
                    )
                ).all()
                for row in rows:
                    blob: bytes = getattr(row, attribute)
                    if cipher.needs_rotation(blob):
                        plain = cipher.decrypt(blob, tenant_id=row.tenant_id, purpose=purpose)
                        setattr(
                            row,
                            attribute,
                            cipher.encrypt(plain, tenant_id=row.tenant_id, purpose=purpose),
                        )
                        changed += 1
            if len(rows) < batch:
                break
            last = (rows[-1].tenant_id, rows[-1].id)
    return changed
