"""The guarantee: Wallguard does not become a new store of personal data.

The whole product runs as it does in production (the API and the worker as `wallguard serve`
and `wallguard worker` processes, the platform sandbox as a real HTTP server, real PostgreSQL and
Redis): a page is connected through OAuth, customers comment in real time and in a page's
history (a backfill scan) with distinctive canary values of every type the engine knows,
Wallguard hides and replies, and one author is erased. Then a `pg_dump` of the database, both
processes' logs and every Redis key and value are searched: no canary appears in plaintext
(masked forms keep at most a few characters, which are not searched for).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import redis

from service.platforms.graph import GraphClient
from service.sandbox import RunningSandbox, SandboxConfig
from tests.conftest import REDIS_URL
from tests.helpers import Process, free_port, start_wallguard, wait_http, wallguard

pytestmark = [pytest.mark.e2e]

APP_ID, APP_SECRET, VERIFY = "canary-app", "canary-secret", "canary-verify"
# The author erased at the end, and the others.
ERASED = "Kanarie Fuglesang"
KEPT = ("Birgit Canaria", "Cornelius Kanarifugl")

# (comment, the plaintext forms that must never be stored, logged or queued)
REALTIME = [
    ("Ring til mig på 61 72 83 94 i aften", ("61 72 83 94", "61728394")),
    ("min mail er kanarie.fugl@fuglemail.dk", ("kanarie.fugl@fuglemail.dk",)),
    ("mit CPR-nummer er 110482-3919", ("110482-3919", "1104823919")),
    ("henkilötunnukseni on 131052-308T", ("131052-308T",)),
    ("mitt personnummer är 811218-9876", ("811218-9876", "8112189876")),
    ("fødselsnummeret mitt er 14097937150", ("14097937150",)),
]
BACKFILL = [
    ("meine Steuer-ID ist 36574261809", ("36574261809",)),
    ("min IBAN er DK5000400440116243", ("DK5000400440116243",)),
    ("reg.nr. 5301 kontonummer 0247816359", ("0247816359",)),
    ("mit kort er 4571 7360 2946 5812", ("4571 7360 2946 5812", "4571736029465812")),
    ("mit kundenummer er 73920418", ("73920418",)),
    ("jeg bor på Kanarievej 17, 2100 København Ø", ("Kanarievej 17",)),
]
CANARIES = [v for _, values in REALTIME + BACKFILL for v in values] + [ERASED, *KEPT]
# Binary columns (ciphertexts, hashes) as pg_dump writes them: hex, which contains any short
# run of digits by chance sooner or later, and is not where plaintext hides.
_HEX = re.compile(r"\\\\?x[0-9a-f]+")


def _until(check: Callable[[], Any], what: str, attempts: int = 600) -> Any:
    """Poll a condition (bounded by attempts, not a timed assertion)."""
    for _ in range(attempts):
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    # Ids of its own: webhooks are routed by page id, to every tenant watching that page.
    config = SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, pages=1, id_offset=11_000_000)
    with RunningSandbox(config) as running:
        yield running


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


async def test_no_canary_in_the_database_logs_or_redis(
    sandbox: RunningSandbox, database_url: str
) -> None:
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    queue_name = f"wallguard:canary:{uuid.uuid4().hex}"
    env = {
        "WALLGUARD_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "WALLGUARD_QUEUE_NAME": queue_name,
        "META_APP_ID": APP_ID,
        "META_APP_SECRET": APP_SECRET,
        "META_WEBHOOK_VERIFY_TOKEN": VERIFY,
        "META_GRAPH_URL": sandbox.url,
        "META_DIALOG_URL": sandbox.url,
        "WALLGUARD_PUBLIC_URL": api_url,
        # The most talkative level: a value must not appear in any log line.
        "WALLGUARD_LOG_LEVEL": "DEBUG",
        "WALLGUARD_LOG_JSON": "true",
        "WALLGUARD_POLL_INTERVAL_SECONDS": "5",
    }
    created = wallguard("tenants", "create", "Canary Bank", "--json", env=env)
    assert created.returncode == 0, created.stderr
    tenant_id = json.loads(created.stdout)["tenant_id"]
    headers = {"Authorization": f"Bearer {json.loads(created.stdout)['api_key']}"}
    api: Process = start_wallguard("serve", "--port", str(port), env=env)
    worker: Process = start_wallguard("worker", env=env)
    try:
        wait_http(f"{api_url}/health", api)
        await _run_flow(sandbox, api_url, headers)
    finally:
        logs = api.stop() + worker.stop()

    dump = (
        await asyncio.to_thread(
            subprocess.run,
            ["pg_dump", "--no-owner", _libpq_dsn(database_url)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    ).stdout
    assert "erasure_tombstones" in dump and "Canary Bank" in dump  # it is the right database
    # The search sees the findings: their masked forms are there (a kept author's IBAN).
    assert "DK••••••••••••••43" in dump
    assert _leaks(_HEX.sub("", dump)) == []
    assert _leaks(logs) == [], [line for line in logs.splitlines() if _leaks(line)][:5]
    assert "webhook_accepted" in logs and "erasure_completed" in logs  # the logs are the real ones
    assert _leaks(_redis_everything(queue_name)) == []

    # Done: the tenant goes, so its pages watch nothing for the tests after this one.
    deleted = wallguard("tenants", "delete", tenant_id, "--confirm", tenant_id, env=env)
    assert deleted.returncode == 0, deleted.stderr


def _libpq_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _redis_everything(queue_name: str) -> str:
    """Every key and value in Redis (the queue's and the jobs' keys among them)."""
    # Untyped on purpose: redis-py's sync and async clients share one set of annotations.
    r: Any = redis.Redis.from_url(REDIS_URL)
    seen: list[bytes] = []
    assert r.exists(queue_name) or r.keys(f"{queue_name}*") or r.keys("arq:*")
    try:
        for key in r.scan_iter(count=1000):
            seen.append(key)
            kind = r.type(key)
            if kind == b"string":
                seen.append(r.get(key) or b"")
            elif kind == b"zset":
                seen += [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
            elif kind == b"hash":
                seen += [b for kv in r.hgetall(key).items() for b in kv]
            elif kind == b"list":
                seen += r.lrange(key, 0, -1)
            elif kind == b"set":
                seen += list(r.smembers(key))
    finally:
        r.close()
    return b"\n".join(seen).decode("utf-8", "replace")


async def _run_flow(sandbox: RunningSandbox, api_url: str, headers: dict[str, str]) -> None:
    store = sandbox.store
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as http:
        client = http.post(
            "/v1/clients",
            json={
                "name": f"Canary Client {uuid.uuid4().hex[:6]}",
                "country": "DK",
                "default_language": "da",
                "private_channel_url": "https://canary.example/chat",
            },
        ).json()
        r = http.put(f"/v1/clients/{client['id']}/policy", json={"mode": "hide_and_reply"})
        assert r.status_code == 200, r.text
        # OAuth, as a page admin's browser does it.
        started = http.post("/v1/connections/oauth/start", json={"client_id": client["id"]})
        assert started.status_code == 201, started.text
        done = httpx.get(started.json()["authorization_url"], follow_redirects=True, timeout=30)
        assert done.status_code == 200, done.text
        [page] = [c for c in done.json()["connections"] if c["platform"] == "facebook"]
        async with GraphClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=sandbox.url) as g:
            assert await g.subscribe_app_webhook(f"{api_url}/webhooks/meta", VERIFY)
        page_id = page["external_id"]
        assert urlparse(api_url).hostname == "127.0.0.1"

        # Real time: the sandbox sends signed webhooks to the API as customers comment.
        post = store.add_post(page_id, "Nye priser fra i dag", notify=False)
        realtime = [
            store.add_comment(post.id, text, author_name=ERASED if n < 3 else KEPT[0])
            for n, (text, _) in enumerate(REALTIME)
        ]
        # History: an older post's comments that no webhook will ever announce.
        old = store.add_post(
            page_id, "Sidste års tilbud", created_time=int(time.time()) - 86400, notify=False
        )
        history = [
            store.add_comment(
                old.id,
                text,
                author_name=ERASED if n == 0 else KEPT[1],
                created_time=int(time.time()) - 86000,
                notify=False,
            )
            for n, (text, _) in enumerate(BACKFILL)
        ]
        scan = http.post("/v1/scans", json={"connection_id": page["id"]})
        assert scan.status_code == 202, scan.text

        def settled() -> list[dict[str, Any]] | None:
            items = http.get("/v1/findings", params={"limit": 200}).json()["items"]
            ready = [f for f in items if f["status"] == "hidden" and f["replied_at"]]
            return items if len(ready) == len(REALTIME) + len(BACKFILL) else None

        findings = _until(settled, "every comment hidden and answered")
        assert {f["comment_id"] for f in findings} == {c.id for c in realtime + history}
        _until(
            lambda: http.get(f"/v1/scans/{scan.json()['id']}").json()["status"] == "completed",
            "the scan",
        )
        for node in realtime + history:
            assert store.nodes[node.id].is_hidden

        # Subject access for one author, then erasure of another (deleted on the page too).
        access = http.get(
            "/v1/subject-data", params={"platform": "facebook", "author_id": realtime[3].from_id}
        )
        assert access.status_code == 200 and len(access.json()["findings"]) == 3
        assert _leaks(access.text) == []
        erasure = http.post(
            "/v1/erasure-requests",
            json={
                "platform": "facebook",
                "author_id": realtime[0].from_id,
                "delete_on_platform": True,
            },
        )
        assert erasure.status_code == 202, erasure.text
        finished = _until(
            lambda: (
                body
                if (body := http.get(f"/v1/erasure-requests/{erasure.json()['id']}").json())[
                    "status"
                ]
                == "completed"
                else None
            ),
            "the erasure",
        )
        assert finished["counts"]["findings"] == 4
        assert finished["counts"]["platform_comments_deleted"] == 4
        remaining = http.get("/v1/findings", params={"limit": 200}).json()["items"]
        assert len(remaining) == len(REALTIME) + len(BACKFILL) - 4
        # Everything the API answered on the way is masked too.
        assert _leaks(json.dumps(remaining)) == []
