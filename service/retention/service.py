"""Reading and changing retention periods (the purge itself is service.retention.purge)."""

from __future__ import annotations

import uuid

import msgspec

from service.audit.service import record
from service.auth.types import Principal, TenantId
from service.db import UnitOfWork
from service.errors import Forbidden, NotFound
from service.retention import schemas
from service.retention.models import RetentionSettings
from service.retention.repository import RetentionRepository
from service.structs import changes
from service.tenancy.repository import TenantRepository
from service.tenancy.service import ClientService

DEFAULT_FINDINGS_DAYS = schemas.DEFAULTS.findings_days


def tenant_periods(findings_days: int, row: RetentionSettings | None) -> schemas.RetentionPeriods:
    """The tenant's periods: its findings period (``tenants.retention_days``, what /v1/tenant
    has always shown) and the rest from its retention row, else the defaults."""
    values = {
        name: getattr(row, name) if row is not None and getattr(row, name) is not None else default
        for name, default in msgspec.structs.asdict(schemas.DEFAULTS).items()
    }
    values["findings_days"] = findings_days
    return schemas.RetentionPeriods(**values)


async def _load_tenant_periods(uow: UnitOfWork, tenant_id: TenantId) -> schemas.RetentionPeriods:
    tenant = await TenantRepository(uow.session).get(tenant_id)
    days = tenant.retention_days if tenant is not None else schemas.DEFAULTS.findings_days
    return tenant_periods(days, await RetentionRepository(uow.session).for_tenant(tenant_id))


def client_periods(
    tenant: schemas.RetentionPeriods, row: RetentionSettings | None
) -> schemas.RetentionPeriods:
    if row is None:
        return tenant
    overrides = {
        name: value for name in schemas.CLIENT_FIELDS if (value := getattr(row, name)) is not None
    }
    return msgspec.structs.replace(tenant, **overrides)


class ResolvedRetention(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the purge needs about one tenant: its periods and each overriding client's."""

    tenant: schemas.RetentionPeriods
    clients: dict[uuid.UUID, schemas.RetentionPeriods]


async def resolve(uow: UnitOfWork, tenant_id: TenantId) -> ResolvedRetention:
    repo = RetentionRepository(uow.session)
    tenant = await _load_tenant_periods(uow, tenant_id)
    clients = {
        row.client_id: client_periods(tenant, row)
        for row in await repo.client_overrides(tenant_id)
        if row.client_id is not None
    }
    return ResolvedRetention(tenant=tenant, clients=clients)


def _tenant_wide(principal: Principal) -> None:
    if principal.client_id is not None:
        raise Forbidden("This API key is restricted to one client and cannot change the tenant.")


class RetentionService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.settings = RetentionRepository(uow.session)

    async def tenant(self, principal: Principal) -> schemas.TenantRetention:
        periods = await _load_tenant_periods(self.uow, principal.tenant_id)
        return schemas.TenantRetention(**msgspec.structs.asdict(periods))

    async def update_tenant(
        self, principal: Principal, data: schemas.TenantRetentionUpdate
    ) -> schemas.TenantRetention:
        _tenant_wide(principal)
        values = changes(data)
        if values:
            others = dict(values)
            if "findings_days" in others:
                tenant = await TenantRepository(self.uow.session).get(principal.tenant_id)
                if tenant is None:
                    raise NotFound("Tenant not found.")
                days = others.pop("findings_days")
                tenant.retention_days = days if days is not None else DEFAULT_FINDINGS_DAYS
            if others:
                row = await self.settings.get_or_add(principal.tenant_id, None)
                for name, value in others.items():
                    setattr(row, name, value)
            await self.uow.session.flush()
            self._audit(principal, "tenant", principal.tenant_id, values)
        return await self.tenant(principal)

    async def client(self, principal: Principal, client_id: uuid.UUID) -> schemas.ClientRetention:
        await ClientService(self.uow).load(principal, client_id)
        tenant = await _load_tenant_periods(self.uow, principal.tenant_id)
        row = await self.settings.for_client(principal.tenant_id, client_id)
        overrides = schemas.ClientRetentionOverrides(
            **{
                name: getattr(row, name) if row is not None else None
                for name in schemas.CLIENT_FIELDS
            }
        )
        return schemas.ClientRetention(
            client_id=client_id, overrides=overrides, effective=client_periods(tenant, row)
        )

    async def update_client(
        self, principal: Principal, client_id: uuid.UUID, data: schemas.ClientRetentionUpdate
    ) -> schemas.ClientRetention:
        await ClientService(self.uow).load(principal, client_id)
        values = changes(data)
        if values:
            row = await self.settings.get_or_add(principal.tenant_id, client_id)
            for name, value in values.items():
                setattr(row, name, value)
            await self.uow.session.flush()
            self._audit(principal, "client", client_id, values)
        return await self.client(principal, client_id)

    def _audit(
        self,
        principal: Principal,
        subject_type: str,
        subject_id: uuid.UUID,
        values: dict[str, int | None],
    ) -> None:
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="retention.updated",
            subject_type=subject_type,
            subject_id=subject_id,
            data={"changes": values},
        )
