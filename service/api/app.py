"""The Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server, Tag
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from service.api.apikeys import ApiKeyController
from service.api.audit import AuditController
from service.api.auth import ApiKeyAuthMiddleware
from service.api.connections import ConnectionController, OAuthCallbackController
from service.api.deps import DEPENDENCIES, ApiServices
from service.api.detection import DetectController
from service.api.erasure import ErasureRequestController, SubjectDataController
from service.api.findings import FindingController
from service.api.health import HealthController
from service.api.inbox import MetaWebhookController
from service.api.middleware import request_id_middleware
from service.api.openapi_webhooks import WallguardOpenAPIConfig
from service.api.policies import ClientPolicyController, ConnectionPolicyController
from service.api.problems import EXCEPTION_HANDLERS
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
_DESCRIPTION = """\
Wallguard finds personal data that customers post on companies' public social pages (phone
numbers, e-mails, national ID numbers, bank accounts, customer numbers, addresses) and hides those
comments before others read them.

Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457
`application/problem+json`. Lists are cursor-paginated: pass `next_cursor` back as `cursor`.
"""


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = {"exclude_from_auth": True}
    include_in_schema = False


def openapi_config() -> OpenAPIConfig:
    return WallguardOpenAPIConfig(
        title="Wallguard API",
        version=API_VERSION,
        description=_DESCRIPTION,
        servers=[Server(url="/")],
        use_handler_docstrings=False,
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        path="/schema",
        components=Components(
            security_schemes={
                "bearerAuth": SecurityScheme(
                    type="http", scheme="bearer", description="A Wallguard API key"
                ),
            }
        ),
        tags=[
            Tag(name="Tenant"),
            Tag(name="Connections"),
            Tag(name="Platform webhooks"),
            Tag(name="Policies"),
            Tag(name="Findings"),
            Tag(name="Scans"),
            Tag(name="Audit"),
            Tag(name="Retention"),
            Tag(name="Erasure"),
            Tag(name="Stats"),
            Tag(name="Service hours"),
            Tag(name="Response times"),
            Tag(name="Storms"),
            Tag(name="Clients"),
            Tag(name="API keys"),
            Tag(name="Webhooks", description="Signed events Wallguard sends to your endpoints"),
            Tag(name="Detection"),
            Tag(name="Operations"),
        ],
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
            webhook_sender=WebhookSender.from_settings(settings),
        )
        services.install(app)
        await db.warm_up()
        try:
            yield
        finally:
            await services.webhook_sender.aclose()
            await services.graph.aclose()
            await db.dispose()
            if queue is not None:
                await queue.close()

    prometheus = PrometheusConfig(
        app_name="wallguard", prefix="wallguard", group_path=True, exclude=["/metrics", "/health"]
    )
    return Litestar(
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
        ],
        dependencies=DEPENDENCIES,
        middleware=[
            request_id_middleware,
            prometheus.middleware,
            DefineMiddleware(
                ApiKeyAuthMiddleware, exclude=["^/health", "^/ready", "^/metrics", "^/schema"]
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        lifespan=[lifespan],
        state=None,
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=[], allow_headers=["authorization", "content-type"]),
        debug=False,
    )
