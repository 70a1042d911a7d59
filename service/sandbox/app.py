"""The sandbox as a Litestar app, and ways to serve it (foreground or in a thread for tests)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn
from litestar import Litestar, Request, Response, Router, route
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath

from service.sandbox import control as control_module
from service.sandbox import persistence
from service.sandbox.config import SandboxConfig
from service.sandbox.control import SandboxController
from service.sandbox.graph_api import GraphApi
from service.sandbox.seed import seed_store
from service.sandbox.state import Store
from service.sandbox.webhooks import WebhookDeliverer

__all__ = [
    "RunningSandbox",
    "SandboxConfig",
    "create_sandbox_app",
    "run_sandbox",
    "sandbox_server",
]

_METHODS: list[Any] = ["GET", "POST", "DELETE"]


def create_sandbox_app(
    config: SandboxConfig | None = None, *, store: Store | None = None
) -> Litestar:
    """A Graph-API-compatible fake platform plus its ``/_sandbox`` control endpoints.

    State lives in ``app.state.store`` (a ``Store``); pass ``store`` to share one with a test.
    The webhook deliverer runs as a background task for the app's lifetime.
    """
    config = config or SandboxConfig()
    store = store or Store(config)
    # A kept platform already has its content: seeding again would add a second copy.
    restored = config.state_file is not None and persistence.load(store, config.state_file)
    if config.seed is not None and not restored:
        seed_store(
            store,
            config.seed,
            posts_per_page=config.seed_posts_per_page,
            comments_per_post=config.seed_comments_per_post,
        )
    graph = GraphApi(store)
    deliverer = WebhookDeliverer(store)

    @route("/{version:str}/{node:str}", http_method=_METHODS, include_in_schema=False)
    async def graph_node(
        request: Request[Any, Any, Any], version: FromPath[str], node: FromPath[str]
    ) -> Response[Any]:
        return await graph.handle(request, version, node, None)

    @route("/{version:str}/{node:str}/{edge:str}", http_method=_METHODS, include_in_schema=False)
    async def graph_edge(
        request: Request[Any, Any, Any],
        version: FromPath[str],
        node: FromPath[str],
        edge: FromPath[str],
    ) -> Response[Any]:
        return await graph.handle(request, version, node, edge)

    @route("/", http_method=["POST"], include_in_schema=False)
    async def graph_batch(request: Request[Any, Any, Any]) -> Response[Any]:
        return await graph.handle_batch(request)

    @contextlib.asynccontextmanager
    async def webhooks_lifespan(_: Litestar) -> AsyncIterator[None]:
        await deliverer.start()
        try:
            yield
        finally:
            await deliverer.stop()

    @contextlib.asynccontextmanager
    async def state_lifespan(_: Litestar) -> AsyncIterator[None]:
        if config.state_file is None:
            yield
            return
        saver = persistence.StateSaver(store, config.state_file)
        await saver.start()
        try:
            yield
        finally:
            await saver.stop()

    async def provide_store() -> Store:
        return store

    app = Litestar(
        route_handlers=[
            Router("/", route_handlers=[SandboxController]),
            graph_batch,
            graph_node,
            graph_edge,
        ],
        dependencies={"store": Provide(provide_store)},
        lifespan=[state_lifespan, webhooks_lifespan],
        openapi_config=OpenAPIConfig(
            title="Wallguard platform sandbox",
            version="1.0.0",
            description=(control_module.__doc__ or "")
            + "\nGraph API paths (/vNN.N/...) are served too but not listed here.",
            path="/_sandbox/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
        # Litestar's default sends the root logger (so httpx's line per webhook delivery) at
        # INFO through a QueueHandler: a log record per request in the measuring instrument.
        # Without it nothing is logged per request; warnings still reach stderr.
        logging_config=None,
    )
    app.state.store = store
    app.state.config = config
    return app


def run_sandbox(
    host: str = "127.0.0.1", port: int = 8900, config: SandboxConfig | None = None
) -> None:
    """Serve the sandbox in the foreground until interrupted (``wallguard sandbox``)."""
    uvicorn.run(
        create_sandbox_app(config),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        lifespan="on",
    )


class RunningSandbox:
    """A sandbox served by uvicorn in a background thread on a free loopback port."""

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1") -> None:
        self.config = config or SandboxConfig()
        self.store = Store(self.config)
        self.app = create_sandbox_app(self.config, store=self.store)
        self.host = host
        self.port = 0
        # port=0: the kernel picks a free port, read back once the server listens.
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host=host, port=0, log_level="warning", access_log=False, lifespan="on"
            )
        )
        self._thread = threading.Thread(target=self._serve, name="sandbox", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        asyncio.run(self._server.serve())

    def start(self, timeout: float = 10.0) -> RunningSandbox:
        self._thread.start()
        waited = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            waited.wait(0.01)
        if not self._server.started:
            raise RuntimeError("sandbox did not start")
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def sandbox_server(config: SandboxConfig | None = None) -> Iterator[RunningSandbox]:
    """``with sandbox_server() as sandbox: GraphClient(base_url=sandbox.url, ...)``."""
    running = RunningSandbox(config).start()
    try:
        yield running
    finally:
        running.stop()
