"""Outbound webhooks: endpoints, events (the outbox), deliveries and their attempts.

An event row and one delivery row per matching endpoint are written in the transaction of the
change that caused them; the delivery row is the work item (status ``pending`` until an attempt
got a 2xx or the retries ran out), so a lost job or a killed worker loses nothing: the reconcile
cron sends overdue pending deliveries again.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    ARRAY,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, TenantOwned
from service.db_types import str_enum

SECRET_PURPOSE = "webhook_secret"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookEndpoint(TenantOwned, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "client_id"], ["clients.tenant_id", "clients.id"], ondelete="CASCADE"
        ),
    )

    # Only events of this client's pages go here (all of the tenant's when null).
    client_id: Mapped[uuid.UUID | None]
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500))
    # Empty means every event type.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[dt.datetime | None]
    # The signing secret (whsec_…), AES-GCM encrypted bound to tenant and purpose.
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # After a rotation the old secret signs too, until it expires (receivers switch over).
    previous_secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[dt.datetime | None]
    # Start of the current unbroken run of failed attempts (null after a success).
    failing_since: Mapped[dt.datetime | None]


class WebhookEvent(TenantOwned, Base):
    __tablename__ = "webhook_events"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)

    type: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[dt.datetime]
    # The exact bytes sent and signed (every retry sends the same). Not encrypted: a payload
    # holds only what the findings table keeps in clear (ids, types, scores, masked forms),
    # never an excerpt or a raw value (service/webhooks/events.py).
    body: Mapped[bytes] = mapped_column(LargeBinary)


class WebhookDelivery(TenantOwned, Base):
    """One event to one endpoint. Its id is the ``webhook-id`` header, the same on every
    retry and replay, so receivers de-duplicate by it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "endpoint_id", "event_id"),
        ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["webhook_events.tenant_id", "webhook_events.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_deliveries_tenant_id_endpoint_id_id", "tenant_id", "endpoint_id", "id"),
        # The reconcile cron and the oldest-pending gauge (system-wide).
        Index(
            "ix_webhook_deliveries_pending",
            "next_attempt_at",
            postgresql_where="status = 'pending'",
        ),
    )

    endpoint_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    # Attempts ever made (never reset; part of the job id) and in the current round (a replay
    # starts a new round and the retry schedule from its beginning).
    attempts: Mapped[int] = mapped_column(default=0)
    round_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    # A worker holding this delivery until then (set while an attempt is on the wire, outside
    # any transaction): a duplicate job leaves it alone.
    lease_until: Mapped[dt.datetime | None]
    last_attempt_at: Mapped[dt.datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[dt.datetime | None]


class WebhookAttempt(TenantOwned, Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_attempts_tenant_id_delivery_id", "tenant_id", "delivery_id"),
    )

    delivery_id: Mapped[uuid.UUID]
    attempted_at: Mapped[dt.datetime]
    status_code: Mapped[int | None]
    duration_ms: Mapped[float]
    # timeout, connection refused, refused address …; null on an HTTP answer.
    error: Mapped[str | None] = mapped_column(Text)
    # The first 1 KiB of the receiver's answer.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
