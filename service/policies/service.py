"""Policies: a client's, a connection's override of it, and the effective result.

The effective policy is resolved field by field: the connection's override where it is set, else
the client's policy, else Wallguard's default. Reply templates merge per language on the same
rule, so an override can change the Danish text alone.
"""

from __future__ import annotations

import string
import uuid
from typing import Any

import msgspec

from service.audit.service import record
from service.auth.types import Principal, TenantId
from service.connections.models import Connection
from service.connections.service import ConnectionService
from service.db import UnitOfWork
from service.detection import CustomPattern as DetectorPattern
from service.detection import EntityType, PatternError, TenantRules
from service.errors import FieldError, ValidationFailed
from service.locales import Language
from service.policies import defaults, schemas
from service.policies.models import Policy, PolicyMode
from service.policies.repository import PolicyRepository
from service.settings import Settings
from service.structs import apply_changes, changes
from service.tenancy.service import ClientService

_FIELDS = (
    "mode",
    "thresholds",
    "allowlist",
    "custom_patterns",
    "reply_templates",
    "default_language",
    "scan_page_replies",
)


def _patterns(raw: list[dict[str, Any]] | None) -> list[schemas.CustomPattern] | None:
    if raw is None:
        return None
    return msgspec.convert(raw, list[schemas.CustomPattern])


def detector_patterns(patterns: list[schemas.CustomPattern]) -> list[DetectorPattern]:
    return [
        DetectorPattern(name=p.name, pattern=p.pattern, type=p.type, score=p.score)
        for p in patterns
    ]


def validate_policy(data: schemas.PolicyUpdate | schemas.ConnectionPolicyUpdate) -> None:
    """What the schema cannot say: custom patterns must compile with RE2, templates may use
    only the documented placeholders."""
    errors: list[FieldError] = []
    patterns = data.custom_patterns if isinstance(data.custom_patterns, list) else []
    for i, pattern in enumerate(patterns):
        try:
            TenantRules(custom_patterns=detector_patterns([pattern]))
        except PatternError as exc:
            errors.append(FieldError(field=f"$.custom_patterns[{i}].pattern", message=str(exc)))
    templates = data.reply_templates if isinstance(data.reply_templates, dict) else {}
    for lang, text in templates.items():
        problem = _template_problem(text)
        if problem:
            errors.append(FieldError(field=f"$.reply_templates.{lang.value}", message=problem))
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _template_problem(text: str) -> str | None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        return f"not a valid template ({exc}); write literal braces as {{{{ and }}}}"
    unknown = sorted({n for n in names if n not in defaults.PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in sorted(defaults.PLACEHOLDERS))
        return f"unknown placeholder {{{unknown[0]}}}; use {allowed}"
    return None


def _stored_values(data: msgspec.Struct) -> dict[str, Any]:
    """PUT replaces: every field is written, the ones left out as NULL (default / inherit)."""
    values: dict[str, Any] = dict.fromkeys(_FIELDS)
    for name, value in changes(data).items():
        if value is None:
            continue
        if name == "thresholds":
            values[name] = {str(k): float(v) for k, v in value.items()}
        elif name == "custom_patterns":
            values[name] = [msgspec.to_builtins(p) for p in value]
        elif name == "reply_templates":
            values[name] = {str(k): v for k, v in value.items()}
        elif name in {"mode", "default_language"}:
            values[name] = str(value)
        else:
            values[name] = value
    return values


def resolve(
    client_id: uuid.UUID,
    connection_id: uuid.UUID,
    client_policy: Policy | None,
    override: Policy | None,
) -> schemas.EffectivePolicy:
    sources: dict[str, schemas.Source] = {}

    def pick(name: str, default: Any) -> Any:
        for source, row in (("connection", override), ("client", client_policy)):
            value = getattr(row, name) if row is not None else None
            if value is not None:
                sources[name] = source  # type: ignore[assignment]
                return value
        sources[name] = "default"
        return default

    templates = dict(defaults.DEFAULT_REPLY_TEMPLATES)
    template_source: schemas.Source = "default"
    for source, row in (("client", client_policy), ("connection", override)):
        if row is not None and row.reply_templates:
            templates.update(row.reply_templates)
            template_source = source  # type: ignore[assignment]
    sources["reply_templates"] = template_source
    language = pick("default_language", None)
    return schemas.EffectivePolicy(
        connection_id=connection_id,
        client_id=client_id,
        mode=PolicyMode(pick("mode", defaults.DEFAULT_MODE)),
        thresholds=dict(pick("thresholds", dict(defaults.DEFAULT_THRESHOLDS))),
        allowlist=list(pick("allowlist", [])),
        custom_patterns=_patterns(pick("custom_patterns", [])) or [],
        reply_templates=templates,
        default_language=Language(language) if language else None,
        scan_page_replies=bool(pick("scan_page_replies", defaults.DEFAULT_SCAN_PAGE_REPLIES)),
        sources=sources,
    )


async def effective_policy(
    uow: UnitOfWork, tenant_id: TenantId, connection: Connection
) -> schemas.EffectivePolicy:
    """The policy the pipeline applies on ``connection`` (one query)."""
    client_policy, override = await PolicyRepository(uow.session).client_and_override(
        tenant_id, connection.client_id, connection.id
    )
    return resolve(connection.client_id, connection.id, client_policy, override)


def _client_schema(client_id: uuid.UUID, row: Policy | None) -> schemas.Policy:
    return schemas.Policy(
        client_id=client_id,
        mode=PolicyMode(row.mode) if row is not None and row.mode else defaults.DEFAULT_MODE,
        thresholds=dict(row.thresholds)
        if row is not None and row.thresholds is not None
        else dict(defaults.DEFAULT_THRESHOLDS),
        allowlist=list(row.allowlist) if row is not None and row.allowlist is not None else [],
        custom_patterns=(_patterns(row.custom_patterns) if row is not None else None) or [],
        reply_templates={
            **defaults.DEFAULT_REPLY_TEMPLATES,
            **((row.reply_templates or {}) if row is not None else {}),
        },
        default_language=Language(row.default_language)
        if row is not None and row.default_language
        else None,
        scan_page_replies=row.scan_page_replies
        if row is not None and row.scan_page_replies is not None
        else defaults.DEFAULT_SCAN_PAGE_REPLIES,
        stored=row is not None,
        updated_at=row.updated_at if row is not None else None,
    )


def _override_schema(connection: Connection, row: Policy | None) -> schemas.ConnectionPolicy:
    return schemas.ConnectionPolicy(
        connection_id=connection.id,
        client_id=connection.client_id,
        mode=PolicyMode(row.mode) if row is not None and row.mode else None,
        thresholds=dict(row.thresholds) if row is not None and row.thresholds is not None else None,
        allowlist=list(row.allowlist) if row is not None and row.allowlist is not None else None,
        custom_patterns=_patterns(row.custom_patterns) if row is not None else None,
        reply_templates=dict(row.reply_templates)
        if row is not None and row.reply_templates is not None
        else None,
        default_language=Language(row.default_language)
        if row is not None and row.default_language
        else None,
        scan_page_replies=row.scan_page_replies if row is not None else None,
        stored=row is not None,
        updated_at=row.updated_at if row is not None else None,
    )


class PolicyService:
    def __init__(self, uow: UnitOfWork, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings
        self.policies = PolicyRepository(uow.session)

    async def _connection(self, principal: Principal, connection_id: uuid.UUID) -> Connection:
        return await ConnectionService(self.uow, self.settings).load(principal, connection_id)

    async def get_client_policy(self, principal: Principal, client_id: uuid.UUID) -> schemas.Policy:
        client = await ClientService(self.uow).load(principal, client_id)
        row = await self.policies.for_client(principal.tenant_id, client.id)
        return _client_schema(client.id, row)

    async def put_client_policy(
        self, principal: Principal, client_id: uuid.UUID, data: schemas.PolicyUpdate
    ) -> schemas.Policy:
        client = await ClientService(self.uow).load(principal, client_id)
        validate_policy(data)
        values = _stored_values(data)
        row = await self.policies.for_client(principal.tenant_id, client.id)
        if row is None:
            row = Policy(tenant_id=principal.tenant_id, client_id=client.id, connection_id=None)
            self.policies.add(row)
        await self._save(principal, row, values, "policy.updated", "client", client.id)
        return _client_schema(client.id, row)

    async def _save(
        self,
        principal: Principal,
        row: Policy,
        values: dict[str, Any],
        action: str,
        subject_type: str,
        subject_id: uuid.UUID,
    ) -> None:
        """Store the changed fields and audit the change in the same transaction."""
        apply_changes(row, values)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            data=_audit_data(values),
        )

    async def get_override(
        self, principal: Principal, connection_id: uuid.UUID
    ) -> schemas.ConnectionPolicy:
        connection = await self._connection(principal, connection_id)
        row = await self.policies.for_connection(principal.tenant_id, connection.id)
        return _override_schema(connection, row)

    async def put_override(
        self, principal: Principal, connection_id: uuid.UUID, data: schemas.ConnectionPolicyUpdate
    ) -> schemas.ConnectionPolicy:
        connection = await self._connection(principal, connection_id)
        validate_policy(data)
        values = _stored_values(data)
        row = await self.policies.for_connection(principal.tenant_id, connection.id)
        if row is None:
            row = Policy(
                tenant_id=principal.tenant_id,
                client_id=connection.client_id,
                connection_id=connection.id,
            )
            self.policies.add(row)
        await self._save(
            principal, row, values, "policy.override_updated", "connection", connection.id
        )
        return _override_schema(connection, row)

    async def delete_override(self, principal: Principal, connection_id: uuid.UUID) -> None:
        connection = await self._connection(principal, connection_id)
        row = await self.policies.for_connection(principal.tenant_id, connection.id)
        if row is None:
            return  # already inheriting: deleting is idempotent
        await self.policies.delete(row)
        await self.uow.session.flush()
        record(
            self.uow,
            principal.tenant_id,
            actor=principal.actor,
            action="policy.override_deleted",
            subject_type="connection",
            subject_id=connection.id,
        )

    async def effective(
        self, principal: Principal, connection_id: uuid.UUID
    ) -> schemas.EffectivePolicy:
        connection = await self._connection(principal, connection_id)
        return await effective_policy(self.uow, principal.tenant_id, connection)


def _audit_data(values: dict[str, Any]) -> dict[str, Any]:
    # Which fields are set, the mode and the acting types: never the allowlist or templates.
    thresholds = values.get("thresholds")
    return {
        "set": sorted(k for k, v in values.items() if v is not None),
        "mode": values.get("mode"),
        "types": sorted(thresholds) if isinstance(thresholds, dict) else None,
    }


def acting_types(policy: schemas.EffectivePolicy) -> dict[EntityType, float]:
    """Thresholds keyed by type, skipping names the engine does not know (older rows)."""
    known = {t.value for t in EntityType}
    return {EntityType(k): v for k, v in policy.thresholds.items() if k in known}
