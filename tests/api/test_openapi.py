from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from service.api.openapi import render_openapi
from service.api.problems import problem_types
from service.settings import Settings

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch"}


def _document() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(render_openapi())
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


async def test_served_document_is_valid_and_equals_the_committed_file(
    client: AsyncTestClient[Litestar], settings: Settings
) -> None:
    served = (await client.get("/schema/openapi.json")).json()
    validate(served)
    committed = json.loads(SPEC.read_text(encoding="utf-8"))
    # A deployment serves its own WALLGUARD_PUBLIC_URL; the committed file names the default.
    assert served.pop("servers") == [
        {"url": settings.public_url, "description": "This Wallguard deployment"}
    ]
    assert committed.pop("servers")[0]["url"] == Settings().public_url
    assert served == committed, "openapi/openapi.json drifted: run `make openapi` and commit it"
    assert render_openapi() == SPEC.read_text(encoding="utf-8")


def test_every_operation_has_a_stable_id_and_documents_its_problems() -> None:
    spec = _document()
    assert spec["security"] == [{"bearerAuth": []}]
    seen: set[str] = set()
    for path, method, op in _operations(spec):
        where = (path, method)
        op_id = op.get("operationId")
        assert op_id and op_id[0].islower() and "_" not in op_id, (where, op_id)
        assert op_id not in seen
        seen.add(op_id)
        responses = op["responses"]
        assert "default" in responses, where
        public = op.get("security") == []
        if not public:
            # Secured through the root: the scope is stated for people and for generators.
            assert "security" not in op, where
            assert op["x-required-scope"] in {"read", "admin", "detect"}, where
            assert f"`{op['x-required-scope']}`" in op["description"], where
            for status in ("401", "403", "429"):
                assert status in responses, (where, status)
        for status, response in responses.items():
            response = _resolve(spec, response)
            if (status.startswith(("4", "5")) or status == "default") and where != (
                "/ready",
                "get",
            ):
                # Problem details, never Litestar's {status_code, detail, extra}.
                assert list(response["content"]) == ["application/problem+json"], (where, status)
            assert "X-Request-ID" in response.get("headers", {}), (where, status)


def test_meta_callbacks_are_not_in_the_agency_document() -> None:
    spec = _document()
    assert not any(path.startswith("/webhooks/meta") for path in spec["paths"])
    assert "/v1/connections/oauth/callback" not in spec["paths"]
    public = {path for path, _, op in _operations(spec) if op.get("security") == []}
    assert public == {"/health", "/ready"}
    # Not ready is an answer with the readiness body, not a problem.
    ready = spec["paths"]["/ready"]["get"]["responses"]["503"]["content"]["application/json"]
    assert ready["schema"] == {"$ref": "#/components/schemas/Readiness"}


def test_every_operation_and_property_is_described_with_examples() -> None:
    """Fails for an operation or field added without documentation: describe fields with
    msgspec.Meta(description=..., examples=[...]) or in service/api/glossary.py."""
    spec = _document()
    missing: list[str] = []
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        if not op.get("summary") or not op.get("description"):
            missing.append(f"{where}: summary and description")
        for parameter in op.get("parameters", []):
            parameter = _resolve(spec, parameter)
            if not parameter.get("description") or "example" not in parameter:
                missing.append(f"{where}: parameter {parameter['name']}")
        contents = [("request", op["requestBody"]["content"])] if "requestBody" in op else []
        for status, response in op["responses"].items():
            contents.append((status, _resolve(spec, response).get("content", {})))
        for label, content in contents:
            for media_type, media in content.items():
                if "example" not in media and "examples" not in media:
                    missing.append(f"{where}: {label} {media_type} example")
    for name, schema in spec["components"]["schemas"].items():
        if not schema.get("description"):
            missing.append(f"schema {name}: description")
        for prop, value in (schema.get("properties") or {}).items():
            if not value.get("description"):
                missing.append(f"{name}.{prop}: description")
            if not value.get("examples"):
                missing.append(f"{name}.{prop}: example")
    for tag in spec["tags"]:
        if not tag.get("description"):
            missing.append(f"tag {tag['name']}: description")
    assert not missing, "undocumented:\n" + "\n".join(missing)


def test_types_are_tight() -> None:
    spec = _document()
    schemas = spec["components"]["schemas"]

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            assert len(node.get("oneOf", [None, None])) > 1, f"single-branch oneOf at {where}"
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and extra and "properties" not in node:
                # Maps are keyed by an enum or a pattern, except free-form audit data.
                assert "propertyNames" in node or where.endswith("AuditEvent.data"), where
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    for name, schema in schemas.items():
        for prop, value in (schema.get("properties") or {}).items():
            walk(value, f"{name}.{prop}")
            if prop.endswith("_url") or prop == "redirect_to":
                union = value.get("oneOf") or value.get("anyOf") or [value]
                branch = next((b for b in union if "type" in b), value)
                # Absolute, or (links into this API) relative to the server.
                urls = {"uri", "uri-reference"}
                assert value.get("format") in urls or branch.get("format") in urls, prop
        if "enum" in schema:
            assert "default" not in schema, name
    language = schemas["Finding"]["properties"]["language"]
    assert {"$ref": "#/components/schemas/Language"} in language["oneOf"]
    # The change feeds and the shared parameters.
    for path in ("/v1/findings", "/v1/scans"):
        refs = [p.get("$ref") for p in spec["paths"][path]["get"]["parameters"]]
        for shared in ("UpdatedSince", "Cursor", "Limit"):
            assert f"#/components/parameters/{shared}" in refs, (path, shared)


def test_every_problem_type_is_listed_with_its_meaning() -> None:
    spec = _document()
    description = spec["components"]["schemas"]["Problem"]["properties"]["type"]["description"]
    for slug in problem_types():
        assert f"`{slug}`" in description
    for slug in ("rate-limited", "idempotency-key-reused", "not-found", "validation"):
        assert slug in problem_types()
    assert "enum" in spec["info"]["description"].lower()


async def test_interactive_docs_are_served(client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/schema")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]


async def test_the_docs_need_no_other_host(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    """Offline docs: every script and stylesheet of both pages comes from the API itself, pinned,
    and is what the package ships."""
    for page, expected in (("/schema", 2), ("/schema/swagger", 3)):
        html = (await client.get(page)).text
        urls = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html)
        assert len(urls) == expected, (page, urls)
        # The inlined document may hold example URLs; nothing is loaded from another host.
        assert not re.search(r"jsdelivr|unpkg|cdnjs|fonts\.", html), page
        for url in urls:
            assert url.startswith("/schema/assets/"), url
            zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
            assert zipped.status_code == 200, url
            assert zipped.headers["content-type"].startswith(("text/javascript", "text/css"))
            assert "immutable" in zipped.headers["cache-control"]
            plain = await client.get(url, headers={"Accept-Encoding": "identity"})
            assert "content-encoding" not in plain.headers
            # httpx decompresses the gzip answer: both carry the same asset.
            assert zipped.content == plain.content and len(plain.content) > 10_000


async def test_an_unknown_docs_asset_is_a_404(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/schema/assets/nope.js")
    assert response.status_code == 404
