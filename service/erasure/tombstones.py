"""Tombstones: keyed hashes of erased authors and comments, checked where new data enters.

The hash is an HMAC under a per-tenant key derived from WALLGUARD_SECRET_KEY (never stored), of
``<platform>:<id>``: the table cannot be reversed into ids, and the same author has unrelated
tombstones in two tenants. ``ErasureCheck`` answers, for a batch of incoming comments, which
of them to drop, with one indexed query (``erased_comments`` asks it on its own).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, select
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


class ErasureCheck:
    """Which of a batch of ``(comment_id, author_id)`` pairs to drop because the comment or its
    author was erased: ``refs`` are the tombstones to look for (``statement`` reads those that
    exist) and ``erased(found)`` turns the ones found back into comment ids. The inbox asks this
    in the same statement as its other check (service/pipeline/inbox.py)."""

    def __init__(
        self,
        secret_key: str,
        tenant_id: TenantId,
        platform: str,
        comments: Sequence[tuple[str, str | None]],
    ) -> None:
        self.tenant_id = tenant_id
        key = tombstone_key(secret_key, tenant_id)
        self._by_ref: dict[str, list[str]] = {}
        for comment_id, author_id in comments:
            self._by_ref.setdefault(ref(key, platform, comment_id), []).append(comment_id)
            if author_id:
                self._by_ref.setdefault(ref(key, platform, author_id), []).append(comment_id)

    @property
    def refs(self) -> list[str]:
        return list(self._by_ref)

    def statement(self) -> Select[str]:
        return select(Tombstone.ref).where(
            Tombstone.tenant_id == self.tenant_id, Tombstone.ref.in_(self.refs)
        )

    def erased(self, found: Iterable[str]) -> set[str]:
        return {comment_id for hit in found for comment_id in self._by_ref.get(hit, ())}


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
    check = ErasureCheck(secret_key, tenant_id, platform, comments)
    return check.erased(await session.scalars(check.statement()))
