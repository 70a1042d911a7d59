"""The only two places a ``TenantId`` is made.

Repositories take a ``TenantId``, never a bare UUID, and opening a tenant's unit of work takes
one too; so whoever can make a ``TenantId`` decides which tenant's rows code may touch.
tests/auth/test_tenants.py fails when ``TenantId(...)`` is called anywhere else.

- ``claimed_tenant``: authentication. A credential names its tenant (an API key's prefix, a
  signed OAuth state); the claim opens that tenant's unit of work, in which the credential is
  then verified. Only authentication code calls it.
- ``system_tenant``: system work, which no caller authenticated for: routing a webhook to the
  tenants watching its page (the page id names no tenant), the jobs those rows and other
  tenant-scoped commits enqueued (their arguments are ids the system itself wrote), the crons
  that resend stale work, and operator commands (``wallguard tenants create``, ``audit verify``,
  ``dev``). It exists so that every such path is one grep away (``system_tenant(``); a
  controller never calls it, because a request's tenant comes from its ``Principal``.
"""

from __future__ import annotations

import uuid

from service.auth.types import TenantId


def claimed_tenant(tenant_id: uuid.UUID) -> TenantId:
    """The tenant a credential claims, to verify the credential in that tenant's unit of work."""
    return TenantId(tenant_id)


def system_tenant(tenant_id: uuid.UUID | str) -> TenantId:
    """The tenant system work acts for (see the module docstring for who may call this)."""
    return TenantId(tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(tenant_id))
