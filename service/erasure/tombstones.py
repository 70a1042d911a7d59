"""Tombstones: keyed hashes of erased authors and comments, checked where new data enters.

The hash is an HMAC under a per-tenant key derived from WALLGUARD_SECRET_KEY (never stored), of
``<platform>:<id>``: the table cannot be reversed into ids, and the same author has unrelated
tombstones in two tenants. ``erased_comments`` answers, for a batch of incoming comments, which
of them to drop, with one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.types import TenantId
from service.erasure.models import Tombstone, TombstoneKind
from service.ids import new_id


def tombstone_key(secret_key: str, tenant_id: uuid.UUID) -> bytes:
    return hmac.new(secret_key.encode(), f"tombstone:{tenant_id}".encode(), hashlib.sha256).digest()


def ref(key: bytes, platform: str, object_id: str) -> str:
    return hmac.new(key, f"{platform}:{object_id}".encode(), hashlib.sha256).hexdigest()


async def add_tombstones(
    session: AsyncSession,
    tenant_id: TenantId,
    request_id: uuid.UUID,
    entries: Iterable[tuple[TombstoneKind, str]],
) -> int:
    rows = [
        {"tenant_id": tenant_id, "id": new_id(), "kind": kind, "ref": r, "request_id": request_id}
        for kind, r in dict.fromkeys(entries)
    ]
    if not rows:
        return 0
    result = await session.execute(
        insert(Tombstone)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "ref"])
        .returning(Tombstone.id)
    )
    return len(result.all())


async def erased_comments(
    session: AsyncSession,
    tenant_id: TenantId,
    secret_key: str,
    platform: str,
    comments: Sequence[tuple[str, str | None]],
) -> set[str]:
    """Of ``(comment_id, author_id)`` pairs, the comment ids whose comment or author was
    erased: the caller drops them before storing or acting on anything."""
    if not comments:
        return set()
    key = tombstone_key(secret_key, tenant_id)
    by_ref: dict[str, list[str]] = {}
    for comment_id, author_id in comments:
        by_ref.setdefault(ref(key, platform, comment_id), []).append(comment_id)
        if author_id:
            by_ref.setdefault(ref(key, platform, author_id), []).append(comment_id)
    hits = await session.scalars(
        select(Tombstone.ref).where(
            Tombstone.tenant_id == tenant_id, Tombstone.ref.in_(list(by_ref))
        )
    )
    return {comment_id for hit in hits for comment_id in by_ref[hit]}
