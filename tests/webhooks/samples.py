"""One realistic payload per event type (masked values only, as producers send them)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from service.connections.models import ConnectionStatus, Platform
from service.detection import EntityType
from service.findings.models import FindingSource, FindingStatus
from service.scanning.models import ScanStatus
from service.webhooks import events as ev
from service.webhooks.events import EventType


def sample(
    event_type: EventType, tenant_id: uuid.UUID, client_id: uuid.UUID, connection_id: uuid.UUID
) -> msgspec.Struct:
    now = dt.datetime.now(dt.UTC)
    finding_id = uuid.uuid4()
    spec = ev.CATALOGUE[event_type]
    if spec.data is ev.FindingEventData:
        return ev.FindingEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            finding_id=finding_id,
            scan_id=None,
            platform=Platform.FACEBOOK,
            post_id="123_456",
            comment_id="456_789",
            permalink_url="https://facebook.example/123/posts/456?comment_id=789",
            by_page=False,
            types=[EntityType.PHONE_NUMBER],
            entities=[
                ev.WebhookEntity(type=EntityType.PHONE_NUMBER, score=0.97, masked="+45 •• •• •• 78")
            ],
            max_score=0.97,
            status=FindingStatus.CONFIRMED
            if event_type is EventType.FINDING_CONFIRMED
            else FindingStatus.PENDING_HIDE,
            source=FindingSource.REALTIME,
            comment_created_at=now,
            received_at=now,
            hidden_at=None,
            reviewed_at=now if event_type is EventType.FINDING_CONFIRMED else None,
            url=f"http://127.0.0.1:8000/v1/findings/{finding_id}",
        )
    if spec.data is ev.CommentEventData:
        return ev.CommentEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            finding_id=finding_id,
            action_id=uuid.uuid4(),
            platform=Platform.FACEBOOK,
            post_id="123_456",
            comment_id="456_789",
            finding_status=FindingStatus.HIDDEN,
            error="graph error 100" if event_type is EventType.COMMENT_HIDE_FAILED else None,
            reply_id="456_790" if event_type is EventType.COMMENT_REPLIED else None,
            occurred_at=now,
            url=f"http://127.0.0.1:8000/v1/findings/{finding_id}",
        )
    if spec.data is ev.ScanEventData:
        scan_id = uuid.uuid4()
        return ev.ScanEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            scan_id=scan_id,
            status=ScanStatus.FAILED
            if event_type is EventType.SCAN_FAILED
            else ScanStatus.COMPLETED,
            since=None,
            until=None,
            posts_scanned=3,
            comments_scanned=300,
            findings=12,
            hidden=11,
            errors=0,
            error="The platform refused the scan" if event_type is EventType.SCAN_FAILED else None,
            started_at=now,
            finished_at=now,
            url=f"http://127.0.0.1:8000/v1/scans/{scan_id}",
        )
    if spec.data is ev.ConnectionEventData:
        return ev.ConnectionEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            platform=Platform.FACEBOOK,
            external_id="1234567890",
            name="Nordlys Telecom",
            status=ConnectionStatus.ACTIVE,
            reason=None,
            occurred_at=now,
            url=f"http://127.0.0.1:8000/v1/connections/{connection_id}",
        )
    if spec.data is ev.EndpointDisabledEventData:
        endpoint_id = uuid.uuid4()
        return ev.EndpointDisabledEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            endpoint_id=endpoint_id,
            endpoint_url="https://hooks.example.com/x",
            reason="the endpoint answered 410 Gone",
            disabled_at=now,
            url=f"http://127.0.0.1:8000/v1/webhook-endpoints/{endpoint_id}",
        )
    if spec.data is ev.ResponseOverdueEventData:
        return ev.ResponseOverdueEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            tracked_comment_id=uuid.uuid4(),
            platform=Platform.FACEBOOK,
            post_id="123_456",
            comment_id="456_789",
            commented_at=now,
            promise_minutes=60,
            deadline_at=now,
            first_reply_at=None,
            noticed_at=now,
            url=f"http://127.0.0.1:8000/v1/unanswered?connection_id={connection_id}",
        )
    if spec.data is ev.StormEventData:
        storm_id = uuid.uuid4()
        ended = event_type is EventType.STORM_ENDED
        return ev.StormEventData(
            tenant_id=tenant_id,
            client_id=client_id,
            connection_id=connection_id,
            storm_id=storm_id,
            platform=Platform.FACEBOOK,
            status="ended" if ended else "active",
            started_at=now,
            detected_at=now,
            ended_at=now if ended else None,
            baseline_per_minute=0.1,
            rate_per_minute=42.4,
            peak_per_minute=61.0,
            comments=3000,
            posts=[ev.StormPostData(post_id="123_456", comments=2950)],
            url=f"http://127.0.0.1:8000/v1/storms/{storm_id}",
        )
    return ev.WebhookTestData(
        tenant_id=tenant_id,
        client_id=client_id,
        endpoint_id=uuid.uuid4(),
        message="hi",
        sent_at=now,
    )
