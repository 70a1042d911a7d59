"""`python -m bench.retention.probe URL KEY OUT`: another tenant's requests, one after the other,
until the file ``OUT.stop`` appears; writes "<monotonic start> <latency seconds>" per request to
OUT. Its own process, so the purge's process cannot slow the measurement down by sharing a GIL."""

from __future__ import annotations

import os
import sys
import time

import httpx


def main() -> None:
    url, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
    with (
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http,
        open(out, "w", encoding="utf-8") as sink,
    ):
        while not os.path.exists(out + ".stop"):
            started = time.monotonic()
            response = http.get("/v1/findings", params={"limit": 50}, timeout=60)
            response.raise_for_status()
            sink.write(f"{started} {time.monotonic() - started}\n")
            sink.flush()
            time.sleep(0.02)


if __name__ == "__main__":
    main()
