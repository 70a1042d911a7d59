"""The interactive docs (`/schema` Scalar, `/schema/swagger` Swagger UI) without a CDN.

Litestar's render plugins load their JavaScript and CSS from jsDelivr at an unpinned version by
default, which leaves the docs blank offline and changes them under us. The assets are shipped in
the package instead (``docs_assets/``: the npm packages' files at pinned versions, gzip-compressed;
its README says where each comes from) and served here under versioned names, so browsers may
cache them for good. No page of the docs asks another host for anything: no favicon from a CDN,
no web fonts (Scalar uses the system's).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import (
    OpenAPIRenderPlugin,
    ScalarRenderPlugin,
    SwaggerRenderPlugin,
)
from litestar.params import FromPath

SCALAR_VERSION = "1.72.1"
SWAGGER_UI_VERSION = "5.35.0"
ASSETS_PATH = "/schema/assets"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
# Served name -> content type; the file is the name plus ".gz" in docs_assets/.
ASSETS: dict[str, str] = {
    f"scalar-api-reference-{SCALAR_VERSION}.js": _JS,
    f"scalar-api-reference-{SCALAR_VERSION}.css": _CSS,
    f"swagger-ui-{SWAGGER_UI_VERSION}-bundle.js": _JS,
    f"swagger-ui-{SWAGGER_UI_VERSION}-standalone-preset.js": _JS,
    f"swagger-ui-{SWAGGER_UI_VERSION}.css": _CSS,
}
_IMMUTABLE = "public, max-age=31536000, immutable"


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    scalar = f"{ASSETS_PATH}/scalar-api-reference-{SCALAR_VERSION}"
    swagger = f"{ASSETS_PATH}/swagger-ui-{SWAGGER_UI_VERSION}"
    return [
        ScalarRenderPlugin(
            js_url=f"{scalar}.js",
            css_url=f"{scalar}.css",
            # Scalar fetches its web fonts from its own CDN unless told not to.
            options={"withDefaultFonts": False},
            favicon="",
        ),
        SwaggerRenderPlugin(
            js_url=f"{swagger}-bundle.js",
            css_url=f"{swagger}.css",
            standalone_preset_js_url=f"{swagger}-standalone-preset.js",
            path="/swagger",
            favicon="",
        ),
    ]


@cache
def _compressed(name: str) -> bytes:
    return (resources.files("service.api") / "docs_assets" / f"{name}.gz").read_bytes()


@get(
    f"{ASSETS_PATH}/{{name:str}}",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    sync_to_thread=False,
)
def docs_asset(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException(f"no docs asset {name!r}")
    body = _compressed(name)
    headers = {"Cache-Control": _IMMUTABLE, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
    else:
        body = gzip.decompress(body)
    return Response(body, media_type=media_type, headers=headers)
