"""`wallguard webhooks listen`: verifies with standardwebhooks and prints what arrives."""

from __future__ import annotations

import datetime as dt
import time

import httpx

from service.webhooks.delivery import signature
from service.webhooks.events import EventType, WebhookTestData, body
from service.webhooks.service import new_secret
from tests.helpers import free_port, start_wallguard, wait_http


def test_listen_prints_verified_events_and_rejects_bad_signatures() -> None:
    import uuid

    secret = new_secret()
    port = free_port()
    proc = start_wallguard("webhooks", "listen", "--port", str(port), "--secret", secret, env={})
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        payload = body(
            EventType.WEBHOOK_TEST,
            now,
            WebhookTestData(
                tenant_id=uuid.uuid4(),
                client_id=None,
                endpoint_id=uuid.uuid4(),
                message="hello",
                sent_at=now,
            ),
        )
        headers = {
            "webhook-id": "msg_good",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature([secret], "msg_good", now, payload),
        }
        r = httpx.post(f"http://127.0.0.1:{port}/", content=payload, headers=headers)
        assert r.status_code == 204
        forged = {
            **headers,
            "webhook-id": "msg_forged",
            "webhook-signature": signature([new_secret()], "msg_forged", now, payload),
        }
        r = httpx.post(f"http://127.0.0.1:{port}/", content=payload, headers=forged)
        assert r.status_code == 400
        for _ in range(100):
            if "msg_forged" in proc.output():
                break
            time.sleep(0.05)
    finally:
        out = proc.stop()
    assert f"listening on http://127.0.0.1:{port}/" in out
    assert "webhook.test  webhook-id=msg_good" in out and '"message":"hello"' in out
    assert "REJECTED webhook-id=msg_forged" in out


def test_listen_refuses_a_secret_that_is_not_one() -> None:
    from tests.helpers import wallguard

    result = wallguard("webhooks", "listen", "--secret", "hunter2", env={})
    assert result.returncode != 0 and "whsec_" in result.stderr
