"""Shared helpers for tests that run real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from service.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wallguard(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Process:
    """A child process whose output goes to a file (a pipe nobody reads would block it)."""

    def __init__(self, *args: str, env: Mapping[str, str]) -> None:
        self.log = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def poll(self) -> int | None:
        return self.popen.poll()

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        """Terminate (then kill), close the log, return everything it printed."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        out = self.output()
        self.log.close()
        return out


def start_wallguard(*args: str, env: Mapping[str, str]) -> Process:
    return Process(*args, env=env)


def wait_http(url: str, proc: Process | None = None, attempts: int = 200) -> None:
    """Wait until a server answers (bounded by attempts, not by a timing assertion)."""
    for _ in range(attempts):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early: {proc.output()[-2000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


class ApiServer:
    """The real API app served by uvicorn in a background thread on a free loopback port, so
    the sandbox can call its webhooks and browsers-as-tests can follow OAuth redirects."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        import threading

        import uvicorn

        from service.api.app import create_app

        self.port = port or free_port()
        self.settings = settings
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    @classmethod
    def for_sandbox(
        cls, database_url: str, sandbox_url: str, app_id: str, app_secret: str, verify_token: str
    ) -> ApiServer:
        """The API with its Meta app (Graph and the OAuth dialog) pointed at a sandbox."""
        from tests.conftest import make_settings

        port = free_port()
        settings = make_settings(
            database_url,
            **{
                "META_APP_ID": app_id,
                "META_APP_SECRET": app_secret,
                "META_WEBHOOK_VERIFY_TOKEN": verify_token,
                "META_GRAPH_URL": sandbox_url,
                "META_DIALOG_URL": sandbox_url,
                "WALLGUARD_PUBLIC_URL": f"http://127.0.0.1:{port}",
            },
        )
        return cls(settings, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ApiServer:
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                break
            time.sleep(0.01)
        raise RuntimeError("the API server did not start")

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


def draining_worker(
    settings: Settings,
    functions: Sequence[Any],
    on_startup: Callable[[dict[str, Any]], Awaitable[None]],
    on_shutdown: Callable[[dict[str, Any]], Awaitable[None]],
) -> Any:
    """An in-process arq worker on ``settings``' queue that runs what is queued and stops
    (``await worker.main()``, then ``await worker.close()``)."""
    from arq.worker import Worker

    from service.queue import redis_settings

    return Worker(
        functions=list(functions),
        queue_name=settings.queue_name,
        redis_settings=redis_settings(settings.redis_url),
        on_startup=on_startup,  # type: ignore[arg-type]  # arq's Protocol wants dict[Any, Any]
        on_shutdown=on_shutdown,  # type: ignore[arg-type]
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )


async def drain(worker: Any) -> Any:
    """Run a burst worker until its queue is empty, then close it."""
    try:
        await worker.main()
    finally:
        await worker.close()
    return worker
