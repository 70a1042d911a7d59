from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from service.apikeys import schemas, secrets
from service.apikeys.models import ApiKey
from service.apikeys.repository import ApiKeyRepository
from service.audit.service import record
from service.auth.tenants import system_tenant
from service.auth.types import Principal, Scope, TenantId
from service.db import UnitOfWork, utcnow
from service.errors import Forbidden, NotFound, ValidationFailed
from service.structs import to_schema
from service.tenancy.models import Client, TenantKind
from service.tenancy.repository import ClientRepository
from service.tenancy.service import ONBOARDING, TenantService


class ApiKeyService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.keys = ApiKeyRepository(uow.session)

    async def issue(
        self,
        tenant_id: TenantId,
        name: str,
        scopes: list[Scope],
        client_id: uuid.UUID | None = None,
        expires_at: dt.datetime | None = None,
        *,
        actor: str,
    ) -> schemas.ApiKeyCreated:
        full, prefix, secret_hash = secrets.generate(tenant_id)
        key = ApiKey(
            tenant_id=tenant_id,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scopes=sorted({s.value for s in scopes}),
            client_id=client_id,
            expires_at=expires_at,
        )
        self.keys.add(key)
        await self.uow.session.flush()
        # What the key may do, never its name or secret.
        record(
            self.uow,
            tenant_id,
            actor=actor,
            action="api_key.created",
            subject_type="api_key",
            subject_id=key.id,
            data={
                "scopes": key.scopes,
                "client_id": None if client_id is None else str(client_id),
                "expires": expires_at is not None,
            },
        )
        view = to_schema(key, schemas.ApiKey)
        return schemas.ApiKeyCreated(
            **{f: getattr(view, f) for f in view.__struct_fields__}, secret=full
        )

    async def create(
        self, principal: Principal, data: schemas.ApiKeyCreate
    ) -> schemas.ApiKeyCreated:
        if principal.client_id is not None:
            raise Forbidden("A key restricted to one client cannot create keys.")
        if (
            data.client_id is not None
            and await ClientRepository(self.uow.session).get(principal.tenant_id, data.client_id)
            is None
        ):
            raise ValidationFailed(
                f"Client {data.client_id} not found.",
            )
        if data.expires_at is not None and data.expires_at <= utcnow():
            raise ValidationFailed("expires_at must be in the future.")
        return await self.issue(
            principal.tenant_id,
            data.name,
            data.scopes,
            data.client_id,
            data.expires_at,
            actor=principal.actor,
        )

    async def _load(self, principal: Principal, key_id: uuid.UUID) -> ApiKey:
        key = await self.keys.get(principal.tenant_id, key_id)
        if key is None or (
            principal.client_id is not None and key.client_id != principal.client_id
        ):
            raise NotFound(f"API key {key_id} not found.")
        return key

    async def get(self, principal: Principal, key_id: uuid.UUID) -> schemas.ApiKey:
        return to_schema(await self._load(principal, key_id), schemas.ApiKey)

    async def list(
        self, principal: Principal, *, cursor: str | None, limit: int
    ) -> schemas.ApiKeyList:
        rows, next_cursor = await self.keys.list(
            principal.tenant_id, only_client=principal.client_id, cursor=cursor, limit=limit
        )
        return schemas.ApiKeyList(
            items=[to_schema(k, schemas.ApiKey) for k in rows], next_cursor=next_cursor
        )

    async def revoke(self, principal: Principal, key_id: uuid.UUID) -> schemas.ApiKey:
        if principal.client_id is not None:
            raise Forbidden("A key restricted to one client cannot revoke keys.")
        key = await self._load(principal, key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            await self.uow.session.flush()
            record(
                self.uow,
                principal.tenant_id,
                actor=principal.actor,
                action="api_key.revoked",
                subject_type="api_key",
                subject_id=key.id,
            )
        return to_schema(key, schemas.ApiKey)


async def authenticate(
    uow: UnitOfWork, parsed: secrets.ParsedKey, touch_after: dt.timedelta
) -> Principal | None:
    """The verified caller, or None. The unit of work must be opened for parsed.tenant_id."""
    tenant_id = uow.tenant
    key = await ApiKeyRepository(uow.session).by_prefix(tenant_id, parsed.prefix)
    now = utcnow()
    if key is None or not secrets.matches(parsed.secret, key.secret_hash):
        return None
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    # Bounded write amplification: last_used_at is only as precise as `touch_after`.
    if key.last_used_at is None or now - key.last_used_at >= touch_after:
        key.last_used_at = now
    return Principal(
        tenant_id=tenant_id,
        api_key_id=key.id,
        scopes=frozenset(Scope(s) for s in key.scopes),
        client_id=key.client_id,
    )


class Onboarded(msgspec.Struct, kw_only=True):
    tenant_id: uuid.UUID
    api_key: str


async def onboard_tenant(uow: UnitOfWork, name: str, kind: TenantKind) -> Onboarded:
    """A new tenant, its own first client when it is a company, and an admin key. Runs in a
    system unit of work: before this there is no tenant context to run in."""
    tenant = await TenantService(uow).create(name, kind, actor=ONBOARDING)
    tenant_id = system_tenant(tenant.id)
    if kind is TenantKind.COMPANY:
        client = Client(tenant_id=tenant_id, name=name)
        ClientRepository(uow.session).add(client)
        await uow.session.flush()
        record(
            uow,
            tenant_id,
            actor=ONBOARDING,
            action="client.created",
            subject_type="client",
            subject_id=client.id,
            data={"fields": ["name"]},
        )
    key = await ApiKeyService(uow).issue(
        tenant_id, "admin (created with the tenant)", [Scope.ADMIN], actor=ONBOARDING
    )
    return Onboarded(tenant_id=tenant.id, api_key=key.secret)
