"""Connecting pages end to end: the real API (uvicorn), the platform sandbox (a real Graph-API
compatible server), real Postgres. OAuth -> connections -> subscribed -> signed webhooks -> inbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import msgspec
import pytest
from sqlalchemy import select, text

from service.connections.models import Connection
from service.crypto import Cipher, DecryptionError
from service.db import Database
from service.inbox.models import PAYLOAD_PURPOSE, InboxEvent
from service.platforms.graph import GraphClient
from service.platforms.signatures import sign_body
from service.sandbox import RunningSandbox, SandboxConfig
from tests.conftest import MakeTenant
from tests.helpers import ApiServer

APP_ID, APP_SECRET, VERIFY = "wg-test-app", "wg-test-secret", "wg-verify-token"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with RunningSandbox(SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, pages=2)) as running:
        yield running


@pytest.fixture(scope="module")
def api(sandbox: RunningSandbox, database_url: str) -> Iterator[ApiServer]:
    with ApiServer.for_sandbox(database_url, sandbox.url, APP_ID, APP_SECRET, VERIFY) as server:
        yield server


def _connect(
    api: ApiServer, headers: dict[str, str], client_id: str, **extra: object
) -> httpx.Response:
    with httpx.Client(base_url=api.url, headers=headers) as http:
        started = http.post("/v1/connections/oauth/start", json={"client_id": client_id, **extra})
        assert started.status_code == 201, started.text
        url = started.json()["authorization_url"]
        assert "state=" in url and f"client_id={APP_ID}" in url
        # The page admin's browser: consent dialog -> redirect back to Wallguard's callback.
        return httpx.get(url, follow_redirects=True, timeout=30)


async def test_oauth_webhook_inbox_and_reauth(
    api: ApiServer, sandbox: RunningSandbox, make_tenant: MakeTenant, db: Database
) -> None:
    t = await make_tenant()
    with httpx.Client(base_url=api.url, headers=t.headers) as http:
        client = http.post("/v1/clients", json={"name": "Telco", "country": "DK"}).json()
        done = _connect(api, t.headers, client["id"])
        assert done.status_code == 200, done.text
        connections = done.json()["connections"]
        pages = [c for c in connections if c["platform"] == "facebook"]
        assert len(pages) == 2
        assert all(c["status"] == "active" and c["subscribed_at"] for c in pages)
        assert all(c["country"] == "DK" for c in connections)
        listed = http.get("/v1/connections", params={"client_id": client["id"]}).json()["items"]
        assert {c["id"] for c in listed} == {c["id"] for c in connections}
        assert all("token" not in str(sorted(c)) for c in listed)
    # Another tenant sees none of it.
    other = await make_tenant()
    with httpx.Client(base_url=api.url, headers=other.headers) as http:
        assert http.get("/v1/connections").json()["items"] == []
        for c in connections:
            assert http.get(f"/v1/connections/{c['id']}").status_code == 404
            assert (
                http.patch(f"/v1/connections/{c['id']}", json={"status": "paused"}).status_code
                == 404
            )
            assert http.delete(f"/v1/connections/{c['id']}").status_code == 404
            assert http.post(f"/v1/connections/{c['id']}/verify").status_code == 404

    # The sandbox shows the app installed on each page.
    async with GraphClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=sandbox.url) as graph:
        assert await graph.subscribe_app_webhook(f"{api.url}/webhooks/meta", VERIFY)
    # Tokens are unreadable in the database, and only decrypt for their own tenant.
    async with db.system_unit_of_work() as uow:
        rows = (
            await uow.session.scalars(select(Connection).where(Connection.tenant_id == t.tenant_id))
        ).all()
    cipher = Cipher(api.settings.encryption_keys)
    for row in rows:
        assert row.token_ciphertext is not None
        token = cipher.decrypt_text(
            row.token_ciphertext, tenant_id=row.tenant_id, purpose="page_token"
        )
        assert token.encode() not in row.token_ciphertext
        with pytest.raises(DecryptionError):
            cipher.decrypt_text(row.token_ciphertext, tenant_id=uuid.uuid4(), purpose="page_token")

    # A customer comments on the page: the sandbox delivers a signed webhook to /webhooks/meta.
    page_id = pages[0]["external_id"]
    with httpx.Client(base_url=sandbox.url) as control:
        post = control.post(f"/_sandbox/pages/{page_id}/posts", json={"message": "Driftsstatus"})
        assert post.status_code in (200, 201), post.text
        secret_phone = "+45 20 12 34 56"
        comment = control.post(
            f"/_sandbox/objects/{post.json()['id']}/comments",
            json={"author_name": "Mette", "message": f"Ring til mig på {secret_phone}"},
        )
        assert comment.status_code in (200, 201), comment.text
        comment_id = comment.json()["id"]
    event = None
    for _ in range(300):
        async with db.unit_of_work(t.tenant_id) as uow:
            event = (
                await uow.session.scalars(
                    select(InboxEvent).where(InboxEvent.object_id == comment_id)
                )
            ).first()
        if event is not None:
            break
        await asyncio.sleep(0.02)
    assert event is not None, "the webhook never reached the inbox"
    assert event.verb == "add" and event.item == "comment"
    # Still pending (no worker here): its payload is kept until it is processed.
    assert event.payload_ciphertext is not None
    assert secret_phone.encode() not in event.payload_ciphertext
    payload = msgspec.json.decode(
        cipher.decrypt(event.payload_ciphertext, tenant_id=t.tenant_id, purpose=PAYLOAD_PURPOSE)
    )
    assert payload["value"]["message"].endswith(secret_phone)
    async with db.system_unit_of_work() as uow:
        raw = (
            await uow.session.execute(
                text(
                    "SELECT count(*) FROM inbox_events "
                    "WHERE position(convert_to(:p, 'UTF8') in payload_ciphertext) > 0"
                ),
                {"p": "20 12 34 56"},
            )
        ).scalar()
    assert raw == 0

    # Forged or missing signatures are refused; a redelivery is recognised.
    body = b'{"object":"page","entry":[{"id":"%s","time":1,"changes":[]}]}' % page_id.encode()
    r = httpx.post(
        f"{api.url}/webhooks/meta",
        content=body,
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert r.status_code == 401
    assert httpx.post(f"{api.url}/webhooks/meta", content=body).status_code == 401
    assert (
        httpx.post(
            f"{api.url}/webhooks/meta",
            content=b"{not json",
            headers={"X-Hub-Signature-256": sign_body(APP_SECRET, b"{not json")},
        ).status_code
        == 400
    )
    delivery = msgspec.json.encode(
        {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": 2,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": "x_1",
                                "post_id": "p_1",
                                "created_time": 2,
                                "message": "hej",
                            },
                        }
                    ],
                }
            ],
        }
    )
    sig = {"X-Hub-Signature-256": sign_body(APP_SECRET, delivery)}
    first = httpx.post(f"{api.url}/webhooks/meta", content=delivery, headers=sig).json()
    second = httpx.post(f"{api.url}/webhooks/meta", content=delivery, headers=sig).json()
    # Once per tenant watching the page (earlier tests may have connected it too), then a
    # duplicate for each.
    assert first["stored"] >= 1
    assert second == {"received": 1, "stored": 0, "duplicates": first["stored"]}
    unknown = msgspec.json.encode(
        {
            "object": "page",
            "entry": [
                {
                    "id": "999999",
                    "changes": [
                        {
                            "field": "feed",
                            "value": {"item": "comment", "verb": "add", "comment_id": "z"},
                        }
                    ],
                }
            ],
        }
    )
    r = httpx.post(
        f"{api.url}/webhooks/meta",
        content=unknown,
        headers={"X-Hub-Signature-256": sign_body(APP_SECRET, unknown)},
    )
    assert r.status_code == 200 and r.json()["stored"] == 0

    # An expired token: the check turns the connection needs_reauth, with the reason.
    with httpx.Client(base_url=sandbox.url) as control:
        r = control.post("/_sandbox/tokens/expire", json={"page_id": page_id})
        assert r.status_code == 200, r.text
    with httpx.Client(base_url=api.url, headers=t.headers) as http:
        checked = http.post(f"/v1/connections/{pages[0]['id']}/verify").json()
        assert checked["status"] == "needs_reauth" and "token" in checked["status_reason"]
        other = http.post(f"/v1/connections/{pages[1]['id']}/verify").json()
        assert other["status"] == "active"
        # Pausing a needs_reauth connection is refused; reconnecting through OAuth revives it.
        r = http.patch(f"/v1/connections/{pages[0]['id']}", json={"status": "paused"})
        assert r.status_code == 400
        again = _connect(api, t.headers, client["id"], page_ids=[page_id]).json()["connections"]
        assert [c["status"] for c in again if c["platform"] == "facebook"] == ["active"]
        r = http.patch(f"/v1/connections/{pages[1]['id']}", json={"status": "paused"})
        assert r.json()["status"] == "paused"
        gone = http.delete(f"/v1/connections/{pages[1]['id']}")
        assert gone.status_code == 200 and gone.json()["status"] == "revoked"
        events = http.get("/v1/connections").json()
        assert len(events["items"]) == len(connections)


def test_webhook_verify_handshake(api: ApiServer) -> None:
    ok = httpx.get(
        f"{api.url}/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "12345", "hub.verify_token": VERIFY},
    )
    assert ok.status_code == 200 and ok.text == "12345"
    bad = httpx.get(
        f"{api.url}/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "12345", "hub.verify_token": "nope"},
    )
    assert bad.status_code == 403
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_oauth_isolation_and_bad_state(api: ApiServer, make_tenant: MakeTenant) -> None:
    a = await make_tenant()
    b = await make_tenant()
    with httpx.Client(base_url=api.url) as http:
        a_client = http.post("/v1/clients", json={"name": "A"}, headers=a.headers).json()
        r = http.post(
            "/v1/connections/oauth/start", json={"client_id": a_client["id"]}, headers=b.headers
        )
        assert r.status_code == 404
        r = http.get("/v1/connections/oauth/callback", params={"code": "c", "state": "forged.sig"})
        assert r.status_code == 400 and r.json()["title"] == "Bad request"
        r = http.get("/v1/connections/oauth/callback", params={"error": "access_denied"})
        assert r.status_code == 400
        for method, path in (
            ("GET", f"/v1/connections/{uuid.uuid4()}"),
            ("PATCH", f"/v1/connections/{uuid.uuid4()}"),
            ("DELETE", f"/v1/connections/{uuid.uuid4()}"),
            ("POST", f"/v1/connections/{uuid.uuid4()}/verify"),
        ):
            r = http.request(
                method,
                path,
                headers=b.headers,
                json={"status": "paused"} if method == "PATCH" else None,
            )
            assert r.status_code == 404, (method, path, r.text)


async def test_an_oauth_state_connects_once(api: ApiServer, make_tenant: MakeTenant, db) -> None:  # type: ignore[no-untyped-def]
    """A leaked authorisation URL (its state) must not attach pages again: the same state with a
    fresh code from Meta is refused, while a new start works."""
    t = await make_tenant()
    with httpx.Client(base_url=api.url, headers=t.headers) as http:
        client = http.post("/v1/clients", json={"name": "Telco", "country": "DK"}).json()
        url = http.post("/v1/connections/oauth/start", json={"client_id": client["id"]}).json()[
            "authorization_url"
        ]
    first = httpx.get(url, follow_redirects=True, timeout=30)
    assert first.status_code == 200, first.text
    # The consent dialog again: a new code for the same state.
    again = httpx.get(url, follow_redirects=True, timeout=30)
    assert again.status_code == 400, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "used already" in again.json()["detail"]
    async with db.unit_of_work(t.tenant_id) as uow:
        events = (
            (
                await uow.session.execute(
                    text("SELECT action FROM audit_events WHERE action LIKE 'connection.%'")
                )
            )
            .scalars()
            .all()
        )
        # Connected once, never re-authorised by the replay.
        assert events and set(events) == {"connection.connected"}
        # The use is remembered under the tenant, with the state's expiry, and row-level
        # security keeps it to that tenant.
        forced = (
            await uow.session.execute(
                text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'oauth_state_uses'")
            )
        ).scalar()
        assert forced is True
        uses = (
            await uow.session.execute(text("SELECT tenant_id, expires_at FROM oauth_state_uses"))
        ).all()
        assert [u.tenant_id for u in uses] == [t.tenant_id]
    other = await make_tenant()
    async with db.unit_of_work(other.tenant_id) as uow:
        assert (
            await uow.session.execute(text("SELECT count(*) FROM oauth_state_uses"))
        ).scalar() == 0
    # A new start is a new state, and connects (re-authorises) again.
    with httpx.Client(base_url=api.url, headers=t.headers) as http:
        url = http.post("/v1/connections/oauth/start", json={"client_id": client["id"]}).json()[
            "authorization_url"
        ]
    assert httpx.get(url, follow_redirects=True, timeout=30).status_code == 200


async def test_used_states_are_forgotten_once_expired(make_tenant: MakeTenant, db) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from service.connections.repository import OAuthStateRepository

    t = await make_tenant()
    now = dt.datetime.now(dt.UTC)
    async with db.unit_of_work(t.tenant_id) as uow:
        repo = OAuthStateRepository(uow.session)
        assert await repo.claim(t.tenant_id, "old", now - dt.timedelta(seconds=1))
        assert await repo.claim(t.tenant_id, "live", now + dt.timedelta(minutes=15))
        assert not await repo.claim(t.tenant_id, "live", now + dt.timedelta(minutes=15))
        nonces = (await uow.session.execute(text("SELECT nonce FROM oauth_state_uses"))).scalars()
        assert set(nonces) == {"live"}
