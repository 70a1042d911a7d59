"""Pure parts: the retry schedule, Retry-After, the address rules, signing, the outbox body."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import uuid

import pytest
from standardwebhooks import Webhook

from service.webhooks.delivery import (
    RETRY_SCHEDULE,
    DeliveryConfig,
    parse_retry_after,
    retry_delay,
    signature,
)
from service.webhooks.events import EventType, WebhookTestData, body
from service.webhooks.guard import Policy, address_problem
from service.webhooks.service import new_secret

PRODUCTION = Policy(allow_private=False, https_only=True)
DEV = Policy(allow_private=True, https_only=False)


def test_the_documented_schedule() -> None:
    assert RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    config = DeliveryConfig(jitter=0)
    delays = [retry_delay(config, n, None) for n in range(1, 9)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, None]


def test_jitter_stays_within_its_band_and_varies() -> None:
    config = DeliveryConfig(jitter=0.2)
    rng = random.Random(7)
    delays = {retry_delay(config, 2, None, rng) for _ in range(50)}
    assert all(240 <= d <= 360 for d in delays if d is not None)
    assert len(delays) > 40


def test_retry_after_is_honoured_and_capped() -> None:
    config = DeliveryConfig(jitter=0, retry_after_cap=3600)
    assert retry_delay(config, 1, 120) == 120
    assert retry_delay(config, 1, 10**6) == 3600
    assert retry_delay(config, 3, 1) == 1800  # never sooner than the schedule
    assert parse_retry_after("42") == 42
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("address", "production", "dev"),
    [
        ("93.184.216.34", None, None),
        ("2606:2800:220:1:248:1893:25c8:1946", None, None),
        ("127.0.0.1", "a loopback address", None),
        ("::1", "a loopback address", None),
        ("::ffff:127.0.0.1", "a loopback address", None),
        ("10.1.2.3", "a private address", None),
        ("192.168.1.1", "a private address", None),
        ("100.64.0.1", "a private address", None),
        ("fd12::1", "a private address", None),
        ("169.254.169.254", "a cloud metadata address", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address", "a link-local address"),
        ("fe80::1", "a link-local address", "a link-local address"),
        ("0.0.0.0", "an unspecified address", "an unspecified address"),
        ("224.0.0.1", "a multicast address", "a multicast address"),
        ("240.0.0.1", "a reserved address", "a reserved address"),
    ],
)
def test_address_rules(address: str, production: str | None, dev: str | None) -> None:
    ip = ipaddress.ip_address(address)
    assert address_problem(ip, PRODUCTION) == production
    assert address_problem(ip, DEV) == dev


def test_signatures_verify_with_standardwebhooks_and_two_secrets_give_two() -> None:
    old, new = new_secret(), new_secret()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    payload = body(
        EventType.WEBHOOK_TEST,
        now,
        WebhookTestData(
            tenant_id=_uuid(), client_id=None, endpoint_id=_uuid(), message="hi", sent_at=now
        ),
    )
    header = signature([new, old], "msg_1", now, payload)
    assert len(header.split(" ")) == 2 and all(s.startswith("v1,") for s in header.split(" "))
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": header,
    }
    for secret in (old, new):
        assert Webhook(secret).verify(payload, headers)["type"] == "webhook.test"


def test_a_payload_must_be_its_types_struct() -> None:
    now = dt.datetime.now(dt.UTC)
    data = WebhookTestData(
        tenant_id=_uuid(), client_id=None, endpoint_id=_uuid(), message="x", sent_at=now
    )
    with pytest.raises(TypeError):
        body(EventType.FINDING_CREATED, now, data)


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


def test_the_contracts_status_names_are_the_domains() -> None:
    from service.connections.models import ConnectionStatus, Platform
    from service.findings.models import FindingSource, FindingStatus
    from service.scanning.models import ScanStatus
    from service.storms.models import StormStatus
    from service.webhooks import events

    for names, enum in [
        (events.PLATFORMS, Platform),
        (events.FINDING_STATUSES, FindingStatus),
        (events.FINDING_SOURCES, FindingSource),
        (events.SCAN_STATUSES, ScanStatus),
        (events.CONNECTION_STATUSES, ConnectionStatus),
        (events.STORM_STATUSES, StormStatus),
    ]:
        assert set(names) == {m.value for m in enum}, enum.__name__
