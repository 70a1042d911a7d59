"""The outbound webhooks in the OpenAPI document.

Litestar builds ``paths`` and ``components`` from the routes; the events Wallguard *sends* are
not routes, so ``WallguardOpenAPIConfig`` adds them as OpenAPI 3.1 ``webhooks`` (one ``post`` per
event type, its body a schema in ``components/schemas``) when the document is rendered. The
schemas come from the same Structs the sender encodes (service/webhooks/events.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from service.webhooks.events import CATALOGUE, openapi_components

_SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The delivery's id: the same on every retry and replay (de-duplicate "
        "by it).",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix seconds when this attempt was signed.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated when "
        "two secrets are live (after a rotation). Verify with the `standardwebhooks` library.",
        "schema": {"type": "string"},
    },
]


def webhooks_section() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the ``webhooks`` object, the component schemas its bodies refer to)."""
    refs, components = openapi_components()
    webhooks: dict[str, Any] = {}
    for spec in CATALOGUE.values():
        name = spec.event_type.value
        operation_id = "".join(
            part if i == 0 else part.title()
            for i, part in enumerate(name.replace("_", ".").split("."))
        )
        webhooks[name] = {
            "post": {
                "operationId": f"{operation_id}Webhook",
                "summary": name,
                "description": spec.description,
                "tags": ["Webhooks"],
                "parameters": _SIGNATURE_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": refs[spec.event_type]}},
                },
                "responses": {
                    "2XX": {"description": "Received. Anything else is retried."},
                    "410": {"description": "Gone: Wallguard disables the endpoint."},
                },
            }
        }
    return webhooks, components


@dataclass
class _DocumentWithWebhooks(OpenAPI):
    def to_schema(self) -> dict[str, Any]:
        document = super().to_schema()
        webhooks, components = webhooks_section()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in components.items():
            existing = schemas.setdefault(name, schema)
            # The enums both sides use (statuses, entity types) are the same Python enums.
            if existing is not schema and set(existing.get("enum") or ()) != set(
                schema.get("enum") or ()
            ):
                raise RuntimeError(f"OpenAPI schema {name!r} means two different things")
        document["webhooks"] = webhooks
        return document


@dataclass
class WallguardOpenAPIConfig(OpenAPIConfig):
    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        return _DocumentWithWebhooks(**{f.name: getattr(base, f.name) for f in fields(base)})
