"""The Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.middleware.base import DefineMiddleware
from litestar.openapi.spec import Components, Contact, License, SecurityScheme, Server, Tag
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from service.api.apikeys import ApiKeyController
from service.api.audit import AuditController
from service.api.auth import ApiKeyAuthMiddleware
from service.api.connections import ConnectionController, OAuthCallbackController
from service.api.deps import DEPENDENCIES, ApiServices
from service.api.detection import DetectController
from service.api.docs import docs_asset, docs_render_plugins
from service.api.erasure import ErasureRequestController, SubjectDataController
from service.api.findings import FindingController
from service.api.health import HealthController
from service.api.idempotency import idempotency_middleware
from service.api.inbox import MetaWebhookController
from service.api.middleware import rate_limit_middleware, wrap_application
from service.api.openapi import WallguardOpenAPIConfig, document_operations
from service.api.openapi_webhooks import add_webhooks
from service.api.policies import ClientPolicyController, ConnectionPolicyController
from service.api.problems import EXCEPTION_HANDLERS
from service.api.ratelimit import RateLimiter
from service.api.requests import ApiRequest
from service.api.responses import ResponseTimesController, UnansweredController
from service.api.retention import ClientRetentionController, TenantRetentionController
from service.api.scanning import ScanController
from service.api.servicehours import (
    ClientServiceHoursController,
    ConnectionServiceHoursController,
)
from service.api.stats import StatsController
from service.api.storms import StormController
from service.api.tenancy import ClientController, TenantController
from service.api.webhooks import (
    WebhookDeliveryController,
    WebhookEndpointController,
    WebhookEventTypeController,
)
from service.connections.graph import graph_client
from service.crypto import Cipher
from service.db import Database
from service.detection import Detector
from service.logging import configure_logging
from service.queue import Queue
from service.settings import Settings, get_settings
from service.webhooks.delivery import WebhookSender

API_VERSION = "1.0.0"


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = {"exclude_from_auth": True}
    include_in_schema = False


_TAGS = {
    "Tenant": "Your agency (or company) account: its name and data retention.",
    "Clients": "The companies an agency works for; connections, policies and findings belong to "
    "one client.",
    "API keys": "Keys for this API, each with scopes and optionally limited to one client.",
    "Connections": "A client's Facebook Page or Instagram account that Wallguard watches, "
    "connected through Meta's consent screen.",
    "Policies": "What Wallguard does with what it finds, per client with overrides per "
    "connection: which types act, from what score, hide or only report, reply texts.",
    "Findings": "Comments in which Wallguard found personal data, and what it did about them.",
    "Scans": "Backfills: a page's history handled as if each comment had just arrived.",
    "Audit": "The tamper-evident log of every change made through the API and by Wallguard.",
    "Retention": "How long each kind of record is kept, per tenant with overrides per client.",
    "Erasure": "Data subjects' rights: erase everything held about a comment author, or list "
    "it for an access request.",
    "Stats": "Counts and timings for dashboards.",
    "Service hours": "When a client's team answers comments, per client with overrides per "
    "connection, and the first response it promises.",
    "Response times": "How fast pages answer their customers' comments, and the comments still "
    "waiting.",
    "Storms": "Bursts of comments on one post, far above its usual rate.",
    "Webhooks": "Signed events Wallguard sends to your endpoints: the endpoints, the deliveries "
    "made to them, and the event types.",
    "Detection": "Detection on text you send, without storing anything.",
    "Operations": "Liveness and readiness for load balancers; no API key.",
}


def openapi_config(settings: Settings) -> WallguardOpenAPIConfig:
    return WallguardOpenAPIConfig(
        title="Wallguard API",
        version=API_VERSION,
        summary="Finds and hides personal data in comments on companies' public social pages.",
        contact=Contact(
            name="Wallguard support", url="https://wallguard.io/support", email="api@wallguard.io"
        ),
        license=License(name="Proprietary", url="https://wallguard.io/terms", identifier=None),
        servers=[Server(url=settings.public_url, description="This Wallguard deployment")],
        use_handler_docstrings=False,
        render_plugins=docs_render_plugins(),
        path="/schema",
        components=Components(
            security_schemes={
                "bearerAuth": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="A Wallguard API key: `Authorization: Bearer wg_...`. Each "
                    "operation names the scope it needs (`x-required-scope`); `admin` includes "
                    "the others.",
                ),
            }
        ),
        tags=[Tag(name=name, description=text) for name, text in _TAGS.items()],
        rate_description=f"{settings.rate_limit_per_second} requests a second and "
        f"{settings.rate_limit_per_minute} a minute",
        # Not routes: the events Wallguard sends (OpenAPI 3.1 `webhooks`).
        sections=[add_webhooks],
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            queue: Queue | None = await Queue.connect(settings.redis_url, settings.queue_name)
        except Exception:
            # The API still serves reads without Redis; /ready says so, and queued work is
            # recovered from Postgres by the reconcile cron once Redis is back.
            queue = None
        db = Database(settings, queue)
        services = ApiServices(
            settings=settings,
            db=db,
            queue=queue,
            cipher=Cipher(settings.encryption_keys),
            graph=graph_client(settings),
            detector=Detector(),
            rate_limiter=RateLimiter(
                settings.redis_url, settings.rate_limit_per_second, settings.rate_limit_per_minute
            ),
            webhook_sender=WebhookSender.from_settings(settings),
        )
        services.install(app)
        await db.warm_up()
        try:
            yield
        finally:
            await services.webhook_sender.aclose()
            await services.graph.aclose()
            await services.rate_limiter.aclose()
            await db.dispose()
            if queue is not None:
                await queue.close()

    prometheus = PrometheusConfig(
        app_name="wallguard", prefix="wallguard", group_path=True, exclude=["/metrics", "/health"]
    )
    app = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            TenantController,
            ClientController,
            ApiKeyController,
            ConnectionController,
            OAuthCallbackController,
            MetaWebhookController,
            DetectController,
            ClientPolicyController,
            ConnectionPolicyController,
            FindingController,
            ScanController,
            AuditController,
            StatsController,
            ClientServiceHoursController,
            ConnectionServiceHoursController,
            ResponseTimesController,
            UnansweredController,
            StormController,
            WebhookEndpointController,
            WebhookDeliveryController,
            WebhookEventTypeController,
            TenantRetentionController,
            ClientRetentionController,
            ErasureRequestController,
            SubjectDataController,
            docs_asset,
        ],
        dependencies=DEPENDENCIES,
        middleware=[
            prometheus.middleware,
            DefineMiddleware(
                ApiKeyAuthMiddleware, exclude=["^/health", "^/ready", "^/metrics", "^/schema"]
            ),
            # After authentication: both work per API key.
            rate_limit_middleware,
            idempotency_middleware,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=ApiRequest,
        openapi_config=openapi_config(settings),
        lifespan=[lifespan],
        state=None,
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=[], allow_headers=["authorization", "content-type"]),
        debug=False,
    )
    document_operations(app)
    return wrap_application(app)
