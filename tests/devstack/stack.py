"""`wallguard dev` as a real subprocess on embedded servers, and what a working demo looks like."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from service.devstack.embedded import postgres_data_dir
from service.devstack.run import SANDBOX_MODULE, SKIP_SANDBOX_ENV
from tests.devstack.processes import postmaster_pid

SANDBOX_MISSING = importlib.util.find_spec(SANDBOX_MODULE) is None
WITHOUT_SANDBOX = SANDBOX_MISSING or os.environ.get(SKIP_SANDBOX_ENV, "") in {"1", "true", "yes"}
KEY_LINE = re.compile(r"^Demo admin API key: (\S+)$")
# Bounds on waiting, not performance assertions: a cold start takes a few seconds.
START_WAIT = 120.0
DEMO_WAIT = 60.0


@dataclass
class DevStack:
    process: subprocess.Popen[str]
    state_dir: Path
    api_url: str
    sandbox_url: str
    api_key: str = ""
    output: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@contextlib.contextmanager
def dev_stack_running(state_dir: Path, api_port: int, sandbox_port: int) -> Iterator[DevStack]:
    """`wallguard dev` started until it prints the demo key; killed on the way out if the test
    did not stop it."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    if SANDBOX_MISSING:
        env[SKIP_SANDBOX_ENV] = "1"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "dev",
            "--port",
            str(api_port),
            "--sandbox-port",
            str(sandbox_port),
            "--state-dir",
            str(state_dir),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = DevStack(
        process, state_dir, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_WAIT
        while not stack.api_key:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("no API key printed:\n" + "\n".join(stack.output))
            if line is None:
                pytest.fail("`wallguard dev` exited:\n" + "\n".join(stack.output))
            stack.output.append(line)
            if match := KEY_LINE.match(line):
                stack.api_key = match.group(1)
        # The lines printed after the key (how to point the CLI at the stack).
        with contextlib.suppress(queue.Empty):
            while (line := lines.get(timeout=1.0)) is not None:
                stack.output.append(line)
                if line.startswith("Press Ctrl-C"):
                    break
        # Everything it started: children (API, worker, sandbox) and the two daemons.
        stack.pids = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
        stack.pids.append(postmaster_pid(postgres_data_dir(state_dir)))
        stack.pids.append(int((state_dir / "valkey" / "valkey.pid").read_text()))
        yield stack
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def all_items(client: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=query)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEMO_WAIT
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEMO_WAIT:.0f} s for {what}")
        time.sleep(0.2)


def check_the_demo_works(stack: DevStack, author: str = "Mette Kunde") -> str:
    """The demo as a user sees it: the seeded pages' exposing comments hidden (once) and listed,
    the rest untouched, and a new leaky comment hidden in real time. Returns that comment's id."""
    api = httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.api_key}"})
    sandbox = httpx.Client(base_url=stack.sandbox_url)
    with api, sandbox:
        # The demo backfills its seeded pages on start.
        wait_for(
            lambda: (
                all(s["status"] == "completed" for s in all_items(api, "/v1/scans"))
                and bool(all_items(api, "/v1/scans"))
            ),
            "the demo's backfill scans",
        )
        findings = all_items(api, "/v1/findings")
        assert findings, "the seeded demo pages expose personal data"
        pages = {c["external_id"] for c in all_items(api, "/v1/connections")}
        hidden_on_platform = {
            c["id"]: c
            for page_id in pages
            for c in sandbox.get("/_sandbox/hidden", params={"page_id": page_id}).json()
        }
        hidden = {f["comment_id"] for f in findings if f["status"] == "hidden"}
        # Every exposing comment is hidden, once; nothing else on the pages is.
        assert set(hidden_on_platform) == hidden
        assert {c["hide_calls"] for c in hidden_on_platform.values()} == {1}
        assert {f["status"] for f in findings} <= {"hidden", "reported"}
        for finding in findings:
            assert finding["masked_excerpt"] and "•" in finding["masked_excerpt"]

        # In real time: a customer posts a phone number under a demo post, another says thanks.
        post_id = next(f["post_id"] for f in findings if f["post_id"])
        created = [
            sandbox.post(
                f"/_sandbox/objects/{post_id}/comments",
                json={"message": text, "author_name": author},
            )
            for text in ("Ring mig på 40 52 37 46, tak", "Tak for den hurtige hjælp i dag")
        ]
        assert [r.status_code for r in created] == [201, 201]
        leaky, innocent = (r.json()["id"] for r in created)
        wait_for(
            lambda: sandbox.get(f"/_sandbox/comments/{leaky}").json()["is_hidden"],
            "the new comment to be hidden",
        )

        def leaky_finding() -> dict[str, Any] | None:
            found = [f for f in all_items(api, "/v1/findings") if f["comment_id"] == leaky]
            return found[0] if found else None

        # The platform hides first; the action's result is recorded just after.
        wait_for(
            lambda: (f := leaky_finding()) is not None and f["status"] == "hidden",
            "the hide to be recorded",
        )
        hidden_finding = leaky_finding()
        assert hidden_finding is not None and hidden_finding["types"] == ["PHONE_NUMBER"]
        assert hidden_finding["source"] in {"realtime", "poll"}
        assert not sandbox.get(f"/_sandbox/comments/{innocent}").json()["is_hidden"]
        return str(leaky)
