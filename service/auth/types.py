"""Types that carry authority.

``TenantId`` is a distinct type: repositories take it, and only the authentication layer
(``service.auth.service``) and explicitly system-scoped code (workers, the CLI) make one. A handler
cannot pass a tenant id it parsed from a URL by mistake; mypy refuses it.
"""

from __future__ import annotations

import enum
import uuid
from typing import NewType

import msgspec

TenantId = NewType("TenantId", uuid.UUID)


class Scope(enum.StrEnum):
    ADMIN = "admin"
    READ = "read"
    DETECT = "detect"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: made by the auth guard from a verified API key."""

    tenant_id: TenantId
    api_key_id: uuid.UUID
    scopes: frozenset[Scope]
    # A key restricted to one client sees only that client's resources.
    client_id: uuid.UUID | None = None

    def has(self, scope: Scope) -> bool:
        # admin implies every other scope; read does not imply detect (detect keys are handed to
        # agents' reply tools and should not read findings).
        return scope in self.scopes or Scope.ADMIN in self.scopes

    @property
    def actor(self) -> str:
        return f"api_key:{self.api_key_id}"
