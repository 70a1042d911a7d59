"""Retention periods: what the API shows and accepts, and the product defaults."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

FindingsDays = Annotated[
    int, msgspec.Meta(ge=1, le=3650, description="Findings: 1 to 3650 days (default 90)")
]
AuditEventsDays = Annotated[
    int,
    msgspec.Meta(
        ge=30, le=3650, description="Audit events: 30 to 3650 days (default 365, never below 30)"
    ),
]
InboxEventsDays = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=30,
        description="Inbox event rows: 1 to 30 days (default 7); their encrypted payload is "
        "cleared as soon as the event is processed whatever this says",
    ),
]
WebhookDeliveriesDays = Annotated[
    int,
    msgspec.Meta(
        ge=1, le=365, description="Outbound webhook deliveries and attempts: 1 to 365 (default 30)"
    ),
]
ScansDays = Annotated[
    int, msgspec.Meta(ge=1, le=3650, description="Finished scans: 1 to 3650 days (default 90)")
]


class RetentionPeriods(msgspec.Struct, kw_only=True, frozen=True):
    """Days each kind of record is kept (counted from when Wallguard received or finished it)."""

    findings_days: int
    audit_events_days: int
    inbox_events_days: int
    webhook_deliveries_days: int
    scans_days: int


DEFAULTS = RetentionPeriods(
    findings_days=90,
    audit_events_days=365,
    inbox_events_days=7,
    webhook_deliveries_days=30,
    scans_days=90,
)
# The kinds a client may override: the audit trail is one chain for the whole tenant.
CLIENT_FIELDS = ("findings_days", "inbox_events_days", "webhook_deliveries_days", "scans_days")


class TenantRetention(RetentionPeriods, kw_only=True, frozen=True):
    """The tenant's periods (its own or the defaults); clients may override some of them."""


class TenantRetentionUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every field optional; ``null`` goes back to the product default."""

    findings_days: FindingsDays | msgspec.UnsetType | None = msgspec.UNSET
    audit_events_days: AuditEventsDays | msgspec.UnsetType | None = msgspec.UNSET
    inbox_events_days: InboxEventsDays | msgspec.UnsetType | None = msgspec.UNSET
    webhook_deliveries_days: WebhookDeliveriesDays | msgspec.UnsetType | None = msgspec.UNSET
    scans_days: ScansDays | msgspec.UnsetType | None = msgspec.UNSET


class ClientRetentionOverrides(msgspec.Struct, kw_only=True):
    """What the client sets itself; ``null`` inherits the tenant's period."""

    findings_days: int | None
    inbox_events_days: int | None
    webhook_deliveries_days: int | None
    scans_days: int | None


class ClientRetention(msgspec.Struct, kw_only=True):
    client_id: uuid.UUID
    overrides: ClientRetentionOverrides
    # What applies to this client's records (its overrides, else the tenant's periods).
    effective: RetentionPeriods


class ClientRetentionUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every field optional; ``null`` inherits the tenant's period again. The audit trail's
    period is the tenant's alone (one chain per tenant): set it on ``/v1/tenant/retention``."""

    findings_days: FindingsDays | msgspec.UnsetType | None = msgspec.UNSET
    inbox_events_days: InboxEventsDays | msgspec.UnsetType | None = msgspec.UNSET
    webhook_deliveries_days: WebhookDeliveriesDays | msgspec.UnsetType | None = msgspec.UNSET
    scans_days: ScansDays | msgspec.UnsetType | None = msgspec.UNSET
