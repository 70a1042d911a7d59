"""Benchmark: the measuring instrument's own ceiling, without Wallguard.

    .venv/bin/python -m bench.pipeline.instrument [--rate 250] [--seconds 15] [--hide 0.2]
                                                  [--webhook-batch 5]

What ``bench.pipeline.time_to_hide`` runs besides Wallguard: the sandbox as a process
(`python -m service.sandbox`) and this process's comment generator (``generator.py``, a 20 ms
tick per request), with the webhook callback a receiver that answers 200 at once and hides
``hide`` of the comments by Graph batch requests (``receiver.py``, its own process). No
database, no API, no worker. The rate the generator achieves here, the webhook lag and the
sandbox's CPU per comment say how much of two cores the instrument takes and up to what rate
its figures can be trusted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
from typing import Any

import httpx

from bench.pipeline.common import (
    APP_ID,
    APP_SECRET,
    VERIFY_TOKEN,
    Sandbox,
    free_port,
    print_result,
)
from bench.pipeline.cpu import CpuMeter
from bench.pipeline.generator import generate, plan
from bench.pipeline.time_to_hide import DEFAULT_WEBHOOK_BATCH, percentile
from service.logging import configure_logging
from service.platforms.graph import GraphClient


def _start_receiver(port: int, graph: str, token: str, hide: float) -> subprocess.Popen[bytes]:
    module = "bench.pipeline.receiver"
    options = ["--port", str(port), "--graph", graph, "--token", token, "--hide", str(hide)]
    return subprocess.Popen(
        [sys.executable, "-m", module, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def bench(
    rate: float, seconds: float, hide: float, webhook_batch: int = DEFAULT_WEBHOOK_BATCH
) -> dict[str, Any]:
    sandbox = Sandbox()
    receiver: subprocess.Popen[bytes] | None = None
    control = httpx.AsyncClient(base_url=sandbox.url, timeout=30)
    try:
        page_id = sandbox.first_page()
        token = (await control.post(f"/_sandbox/pages/{page_id}/tokens")).json()["access_token"]
        port = free_port()
        receiver = _start_receiver(port, sandbox.url, token, hide)
        receiver_url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                (await control.get(f"{receiver_url}/arrivals")).raise_for_status()
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        else:
            raise RuntimeError("the receiver did not start")
        async with GraphClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=sandbox.url) as g:
            assert await g.subscribe_app_webhook(f"{receiver_url}/webhooks/meta", VERIFY_TOKEN)
            assert await g.subscribe_page(page_id, token)
        await control.put(
            "/_sandbox/webhooks/settings", json={"delay_seconds": 0, "max_batch": webhook_batch}
        )
        post = (
            await control.post(f"/_sandbox/pages/{page_id}/posts", json={"message": "Nye priser"})
        ).json()
        planned = plan(post["id"], rate, seconds, 0.2)

        meter = CpuMeter()
        meter.start(
            {"sandbox": [sandbox.process.pid], "bench": [os.getpid()], "receiver": [receiver.pid]}
        )
        generated = await generate(control, planned)
        expected_hides = int(len(generated.created) * hide)
        arrivals: dict[str, float] = {}
        hidden_at: dict[str, float] = {}
        for _ in range(300):  # until every webhook arrived and every hide was made
            arrivals = (await control.get(f"{receiver_url}/arrivals")).json()
            calls = (await control.get("/_sandbox/calls", params={"method": "POST"})).json()
            hidden_at = {
                c["path"].rsplit("/", 1)[-1]: c["time"]
                for c in calls
                if c["status"] == 200 and c["params"].get("is_hidden") == "true"
            }
            if len(arrivals) >= len(generated.created) and len(hidden_at) >= expected_hides:
                break
            await asyncio.sleep(0.1)
        used = {f"cpu_{group}_s": round(cpu, 2) for group, cpu in meter.stop().items()}
        deliveries = (await control.get("/_sandbox/webhooks/deliveries")).json()
        created = {c: made.created_at for c, made in generated.created.items()}
        delivery = [(arrivals[c] - t) * 1000 for c, t in created.items() if c in arrivals]
        hides = [(hidden_at[c] - t) * 1000 for c, t in created.items() if c in hidden_at]
        return {
            "rate": rate,
            "webhook_max_batch": webhook_batch,
            "comments_sent": len(generated.created),
            "comment_posts_failed": generated.failed,
            "load_seconds": round(generated.load_seconds, 1),
            "achieved_rate": round(generated.achieved_rate, 1),
            "generator_late_ticks": generated.late_ticks,
            "webhook_events_received": len(arrivals),
            "webhook_deliveries": len(deliveries),
            "webhook_answers": dict(
                collections.Counter(str(d.get("status") or d.get("error")) for d in deliveries)
            ),
            "hidden": len(hidden_at),
            "delivery_p50_ms": round(percentile(delivery, 0.5), 1),
            "delivery_p99_ms": round(percentile(delivery, 0.99), 1),
            "from_created_p50_ms": round(percentile(hides, 0.5), 1),
            "from_created_p99_ms": round(percentile(hides, 0.99), 1),
            **used,
            "sandbox_cpu_ms_per_comment": round(
                used["cpu_sandbox_s"] * 1000 / max(1, len(generated.created)), 2
            ),
        }
    finally:
        await control.aclose()
        if receiver is not None:
            receiver.terminate()
            receiver.wait(10)
        sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=250.0, help="comments per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--hide", type=float, default=0.2, help="share the receiver hides")
    parser.add_argument("--webhook-batch", type=int, default=DEFAULT_WEBHOOK_BATCH)
    args = parser.parse_args()
    configure_logging("WARNING", json=False)
    print_result(asyncio.run(bench(args.rate, args.seconds, args.hide, args.webhook_batch)))


if __name__ == "__main__":
    main()
