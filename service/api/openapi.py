"""The OpenAPI document as a stable, diffable file."""

from __future__ import annotations

import json

import msgspec

from service.api.app import create_app
from service.settings import Settings


def render_openapi() -> str:
    app = create_app(Settings())
    # Through msgspec first: the schema holds msgspec values (defaults, examples).
    schema = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
