"""The OpenAPI document agencies generate their clients from, as a stable, diffable file.

Litestar builds ``paths`` and ``components`` from the routes and Structs. ``finish`` then applies
the API's conventions to every operation, so an operation added later gets them without anyone
remembering to:

- security is declared once at the root; operations that need no key (``exclude_from_auth``)
  opt out with ``security: []``;
- the scope an operation needs is read off its guards (``ScopeGuard.scope``), stated in its
  description and given as ``x-required-scope``;
- every operation answers problems as ``application/problem+json`` (never Litestar's own 400
  shape): 401/403/429 when it needs a key, 400 when it takes parameters or a body, 404 with a
  path id, 409 with an ``Idempotency-Key``, 422/413 with a body, and ``default`` (500);
- shared parameters (``cursor``, ``limit``, ``updated_since``, ``Idempotency-Key``) are
  components; ``X-Request-ID`` and the rate-limit headers are documented on the answers;
- properties without a description or example get them from the glossary
  (service/api/glossary.py); examples of whole requests and answers are composed from the
  property examples, so every media type has one;
- single-branch ``oneOf``s are unwrapped and enum schemas carry no ``default``.

tests/api/test_openapi.py fails when an operation or property is left undescribed.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI
from litestar.routes import HTTPRoute

from service.api.auth import ScopeGuard
from service.api.glossary import EXAMPLE_URI, EXTRA_SCHEMAS, Doc, describe_property
from service.api.problems import PROBLEM_MEDIA_TYPE, problem_type_uri, problem_types
from service.auth.types import Scope
from service.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.settings import Settings

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF = "#/components/"

_INTRO = """\
Wallguard finds personal data that customers post on companies' public social pages (phone
numbers, e-mails, national ID numbers, bank accounts, customer numbers, addresses) and hides those
comments before others read them. Agencies connect their clients' pages, set a policy per client,
and follow what Wallguard found and did through this API.

## Authentication and scopes
Send an API key as `Authorization: Bearer <key>` (create the first one with
`wallguard tenants create`, more with `createApiKey`). A key has scopes: `read` (everything you
can list or get), `detect` (`detect` only), `admin` (everything). Each operation names the scope
it needs in its description and in `x-required-scope`. A key restricted to one client sees only
that client's resources; other ids answer 404.

## Rate limits
Each API key may send {rate} (both are moving windows, shared by every API process). Answers
carry `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds); over the limit the answer is a `429` problem with `Retry-After`.

## Retrying safely
`createClient`, `createApiKey` and `createScan` (every operation documenting an
`Idempotency-Key` parameter) accept an `Idempotency-Key` header: sent again with the same key
within 24 hours, the request is not repeated and you get the first answer again (with
`Idempotent-Replayed: true`). The same key with a different request is a `409`.

## Lists and change feeds
Lists are cursor-paginated: pass `next_cursor` back as `cursor` until it is `null`.
`listFindings` and `listScans` take `updated_since` to keep a copy in sync: everything created
or changed since then, oldest change first (see the README section "Build a dashboard").

## Errors
Errors are RFC 9457 `application/problem+json`; `type` says what happened (the list is in the
`Problem` schema), `errors` names the invalid fields, `request_id` is the `X-Request-ID` of the
request (send your own to correlate logs).

## Compatibility and enums
Within `/v1` changes are additive: new operations, new optional parameters, new response
properties and **new enum values** (entity types, statuses, languages, problem types) can appear
without a version change. Clients must accept unknown properties and treat an unknown enum value
as "other" rather than failing; generated clients should be configured to do so. Removing or
renaming anything is a new major version (`/v2`).
"""


@dataclass(frozen=True, slots=True)
class OperationFacts:
    """What the document needs to know about an operation that only its route handler knows."""

    scope: Scope | None
    public: bool
    idempotent: bool


def document_operations(app: Litestar) -> None:
    """Record, per (path, method), the facts ``finish`` documents; called once by create_app."""
    config = app.openapi_config
    if not isinstance(config, WallguardOpenAPIConfig):
        return
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            # Litestar wraps guards (AsyncCallable); the ScopeGuard is what it wraps.
            guards = [getattr(g, "func", g) for g in handler.resolve_guards()]
            scopes = [g.scope for g in guards if isinstance(g, ScopeGuard)]
            facts = OperationFacts(
                scope=scopes[0] if scopes else None,
                public=bool(handler.opt.get("exclude_from_auth")),
                idempotent=bool(handler.opt.get("idempotent")),
            )
            for method in handler.http_methods:
                config.operation_facts[(route.path_format or "/", method.lower())] = facts


@dataclass
class _Document(OpenAPI):
    finishing: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def to_schema(self) -> dict[str, Any]:
        finishing = self.finishing
        self.finishing = None  # not a field of the document itself
        try:
            document = super().to_schema()
        finally:
            self.finishing = finishing
        # Through msgspec: the schema holds msgspec values (defaults, examples).
        plain: dict[str, Any] = json.loads(msgspec.json.encode(document))
        return finishing(plain) if finishing else plain


@dataclass
class WallguardOpenAPIConfig(OpenAPIConfig):
    operation_facts: dict[tuple[str, str], OperationFacts] = field(default_factory=dict)
    rate_description: str = "a burst and a sustained number of requests"
    # Parts of the document that are not routes (e.g. the outbound `webhooks`): each adds to
    # the document Litestar built, before ``finish`` applies the conventions to everything.
    sections: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        values = {f.name: getattr(base, f.name) for f in fields(base)}
        return _Document(**values, finishing=self.finish)

    def finish(self, document: dict[str, Any]) -> dict[str, Any]:
        for add_section in self.sections:
            add_section(document)
        return finish(document, self.operation_facts, self.rate_description)


# --- the post-processing -------------------------------------------------------------------


def _problem_example(slug: str, status: int, title: str, detail: str) -> dict[str, Any]:
    example: dict[str, Any] = {
        "type": problem_type_uri(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "/v1/clients/0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70",
        "request_id": "4f2a9c1e0b7d4e8f9a6b3c2d1e0f9a8b",
    }
    if slug == "validation":
        example["errors"] = [{"field": "$.name", "message": "Expected `str` of length >= 1"}]
    return example


# status -> (component name, description, example slug, example detail)
_PROBLEM_RESPONSES: dict[str, tuple[str, str, str, str]] = {
    "400": (
        "BadRequest",
        "Malformed body, invalid parameter or cursor.",
        "invalid-parameter",
        "query.limit: Expected `int` <= 200",
    ),
    "401": (
        "Unauthorized",
        "Missing, malformed, revoked or expired API key.",
        "unauthorized",
        "Send an API key as `Authorization: Bearer <key>`.",
    ),
    "403": (
        "Forbidden",
        "The API key lacks the scope this operation needs.",
        "forbidden",
        "This operation needs an API key with the `admin` scope.",
    ),
    "404": (
        "NotFound",
        "Not found (also for ids of another tenant or of a client the key may not see).",
        "not-found",
        "Client 0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70 not found.",
    ),
    "409": (
        "Conflict",
        "Conflicts with the current state, or an `Idempotency-Key` reused for another request.",
        "conflict",
        "A client with this name already exists.",
    ),
    "413": (
        "PayloadTooLarge",
        "The body is larger than the API accepts.",
        "payload-too-large",
        "The request body exceeds 1048576 bytes.",
    ),
    "422": (
        "ValidationFailed",
        "The body failed validation; `errors` lists the field paths.",
        "validation",
        "$.name: Expected `str` of length >= 1",
    ),
    "429": (
        "TooManyRequests",
        "The API key is over its rate limit; retry after `Retry-After` seconds.",
        "rate-limited",
        "This API key may send 20 requests a second and 600 a minute; retry after "
        "`Retry-After` seconds.",
    ),
    "503": (
        "ServiceUnavailable",
        "A dependency (database, queue or the platform) is unavailable; retry later.",
        "unavailable",
        "The queue is unavailable; retry shortly.",
    ),
    "default": (
        "InternalError",
        "Wallguard failed; the problem is logged under its `request_id`.",
        "internal",
        "An internal error occurred; it has been logged.",
    ),
}

_RATE_HEADERS = {
    "RateLimit-Policy": (
        "The windows that apply to the key: `<requests>;w=<seconds>`, comma-separated.",
        "20;w=1, 600;w=60",
    ),
    "RateLimit-Limit": ("Requests allowed in the window closest to running out.", "600"),
    "RateLimit-Remaining": ("Requests left in that window.", "599"),
    "RateLimit-Reset": ("Seconds until that window has room again.", "60"),
}


def _header(description: str, example: str, fmt: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if fmt:
        schema["format"] = fmt
    return {"description": description, "schema": schema, "example": example}


def _components(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    headers = components.setdefault("headers", {})
    headers["X-Request-ID"] = _header(
        "The request's id: yours when you sent a valid `X-Request-ID` (1 to 128 of "
        "`A-Za-z0-9._-`), otherwise a new one. Quote it when reporting a problem.",
        "4f2a9c1e0b7d4e8f9a6b3c2d1e0f9a8b",
    )
    for name, (description, example) in _RATE_HEADERS.items():
        headers[name] = _header(description, example)
    headers["Retry-After"] = _header("Seconds to wait before retrying.", "1")
    headers["Idempotent-Replayed"] = _header(
        "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key`.",
        "true",
    )

    parameters = components.setdefault("parameters", {})
    parameters["Cursor"] = {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "`next_cursor` from the previous page; omit it for the first page. "
        "Opaque: do not build or change one.",
        "schema": {"type": "string", "maxLength": 200},
        "example": "djE6MDE5M2M0ZTI3YTEwN2MzZTlmMWEyYjNjNGQ1ZTZmNzA",
    }
    parameters["Limit"] = {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"Items per page (at most {MAX_LIMIT}).",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
        "example": DEFAULT_LIMIT,
    }
    parameters["UpdatedSince"] = {
        "name": "updated_since",
        "in": "query",
        "required": False,
        "description": "A change feed: only items created or changed at or after this time "
        "(ISO 8601 with a time zone), oldest change first instead of newest first. Page with "
        "`next_cursor` until it is null; start the next sync from the largest `updated_at` "
        "you saw (minus a minute of overlap: upsert what you read, so repeats do no harm).",
        "schema": {"type": "string", "format": "date-time"},
        "example": "2026-12-01T09:30:00Z",
    }
    parameters["IdempotencyKey"] = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Any unique string (a UUID is ideal), 1 to 255 printable ASCII "
        "characters. Sent again with the same request within 24 hours, the first answer is "
        "returned instead of creating a second resource; with a different request it is a 409.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        "example": "5f0c6b9e-2d4a-4a57-9a1e-3c8d7b6a5f40",
    }

    responses = components.setdefault("responses", {})
    for status, (name, description, slug, detail) in _PROBLEM_RESPONSES.items():
        code = 500 if status == "default" else int(status)
        title = problem_types().get(slug, (code, name, ""))[1]
        response_headers: dict[str, Any] = {"X-Request-ID": {"$ref": _REF + "headers/X-Request-ID"}}
        if status == "429":
            for header in (*_RATE_HEADERS, "Retry-After"):
                response_headers[header] = {"$ref": _REF + f"headers/{header}"}
        if status == "401":
            response_headers["WWW-Authenticate"] = _header(
                "The authentication scheme to use.", 'Bearer realm="wallguard"'
            )
        responses[name] = {
            "description": description,
            "headers": response_headers,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": _REF + "schemas/Problem"},
                    "example": _problem_example(slug, code, title, detail),
                }
            },
        }


def _problem_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas.get("Problem")
    if problem is None:
        return
    lines = [
        "What happened, as a URI: `" + problem_type_uri("<slug>") + "`. Branch on it, not on "
        "`title` or `detail`. The values (more may be added, see the compatibility note):",
        "",
    ]
    for slug, (status, _title, meaning) in problem_types().items():
        lines.append(f"- `{slug}` ({status}): {meaning}")
    problem["description"] = "An RFC 9457 problem: every error the API answers with has this shape."
    properties = problem["properties"]
    properties["type"].update(
        {
            "description": "\n".join(lines),
            "format": "uri",
            "examples": [problem_type_uri("not-found")],
        }
    )


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    result: dict[str, Any] = node
    return result


class MissingExample(Exception):
    pass


def example_of(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """An example value for ``schema``: its own example, or one composed from its parts."""
    if depth > 12:
        raise MissingExample("too deep")
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "$ref" in schema:
        return example_of(document, _resolve(document, schema["$ref"]), depth + 1)
    if schema.get("allOf"):
        return example_of(document, schema["allOf"][0], depth + 1)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            branches = [b for b in schema[key] if b.get("type") != "null"]
            return example_of(document, branches[0], depth + 1) if branches else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        out = {
            name: example_of(document, prop, depth + 1)
            for name, prop in (schema.get("properties") or {}).items()
        }
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra and not out:
            names = schema.get("propertyNames")
            key = example_of(document, names, depth + 1) if names else "key"
            out[str(key)] = example_of(document, extra, depth + 1)
        return out
    if kind == "array":
        items = schema.get("items") or {}
        return [example_of(document, items, depth + 1)] if items else []
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return "0193c4e2-7a10-7c3e-9f1a-2b3c4d5e6f70"
        if fmt == "date-time":
            return "2026-12-01T09:30:00Z"
        if fmt == "date":
            return "2026-12-01"
        if fmt == "uri":
            return EXAMPLE_URI
    raise MissingExample(json.dumps(schema)[:200])


_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _fits(example: Any, schema: dict[str, Any]) -> bool:
    """A glossary example (found by field name) suits this schema's type and format: a generic
    entry never gives an id a non-UUID example or a list a number."""
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    actual = _JSON_TYPES.get(type(example))
    if kinds and actual not in kinds and not (actual == "integer" and "number" in kinds):
        return False
    return not (schema.get("format") in {"uuid", "date-time", "date"} and isinstance(example, str))


def _tighten(node: Any) -> Any:
    """Unwrap single-branch oneOfs (keeping their siblings), recursively."""
    if isinstance(node, dict):
        for key in list(node):
            node[key] = _tighten(node[key])
        branches = node.get("oneOf")
        if isinstance(branches, list) and len(branches) == 1:
            del node["oneOf"]
            (branch,) = branches
            for key, value in branch.items():
                node.setdefault(key, value)
        return node
    if isinstance(node, list):
        return [_tighten(item) for item in node]
    return node


_MAP_KEYWORDS = ("type", "additionalProperties", "propertyNames", "minProperties", "maxProperties")


def _named_map(schema: dict[str, Any], doc: Doc) -> dict[str, Any]:
    body = {k: copy.deepcopy(v) for k, v in schema.items() if k in _MAP_KEYWORDS}
    body.update(copy.deepcopy(doc.extra))
    body["description"] = doc.description
    if doc.example is not None:
        body["examples"] = [doc.example]
    return body


def _schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    named: dict[str, dict[str, Any]] = {}
    for name, schema in schemas.items():
        if "enum" in schema:
            # An enum used as a field default in one Struct is not the enum's default.
            schema.pop("default", None)
        if not schema.get("description"):
            schema["description"] = describe_property(name, "", schema).description
        event = (schema.get("properties") or {}).get("type", {}).get("enum")
        if not schema.get("description") and name.endswith("Event") and event:
            schema["description"] = (
                f"The body of the `{event[0]}` webhook: its `type`, when it happened "
                "(`timestamp`) and what it is about (`data`)."
            )
        for prop_name, prop in (schema.get("properties") or {}).items():
            doc = describe_property(name, prop_name, prop)
            # Keywords of the value itself go into the non-null branch of a nullable field.
            union = "oneOf" if "oneOf" in prop else "anyOf"
            branches = [b for b in prop.get(union, []) if b.get("type") != "null"]
            target = branches[0] if len(branches) == 1 and "$ref" not in branches[0] else prop
            # A field naming another schema takes its shape (and example) from there.
            refers = "$ref" in prop or any("$ref" in b for b in prop.get(union, []))
            if doc.component and not refers:
                body = _named_map(target, doc)
                # Requests and answers share the name; the request's constraints (value
                # ranges, lengths) hold for answers too, so the more constrained one is kept.
                previous = named.get(doc.component)
                if previous is None or len(json.dumps(body)) > len(json.dumps(previous)):
                    named[doc.component] = body
                ref = {"$ref": _REF + "schemas/" + doc.component}
                if target is prop:
                    for key in _MAP_KEYWORDS:
                        prop.pop(key, None)
                    prop.update(ref)
                else:
                    prop[union] = [ref if b is target else b for b in prop[union]]
            elif not refers:
                target.update({k: v for k, v in doc.extra.items() if k not in target})
            if not prop.get("description") and doc.description:
                prop["description"] = doc.description
            # A generic entry (`name`, `type`) never contradicts an enum the field points to.
            if (
                doc.example is not None
                and not prop.get("examples")
                and not refers
                and _fits(doc.example, target)
            ):
                prop["examples"] = [doc.example]
    for name, body in {**EXTRA_SCHEMAS, **named}.items():
        schemas.setdefault(name, copy.deepcopy(body))
    # Composed examples last: they read the property examples set above.
    for schema in schemas.values():
        for prop in (schema.get("properties") or {}).values():
            if not prop.get("examples"):
                try:
                    value = example_of(document, prop)
                except MissingExample:
                    continue
                if value is not None or prop.get("type") == "null":
                    prop["examples"] = [value]


def _media_examples(document: dict[str, Any], content: dict[str, Any]) -> None:
    for media in content.values():
        schema = media.get("schema")
        if schema is None or "example" in media or "examples" in media:
            continue
        try:
            media["example"] = example_of(document, schema)
        except MissingExample:
            continue


def _parameters(document: dict[str, Any], operation: dict[str, Any]) -> None:
    shared = {"cursor": "Cursor", "limit": "Limit", "updated_since": "UpdatedSince"}
    out: list[dict[str, Any]] = []
    for parameter in operation.get("parameters", []):
        name = parameter.get("name")
        if parameter.get("in") == "query" and name in shared:
            out.append({"$ref": _REF + "parameters/" + shared[name]})
            continue
        for noise in ("allowEmptyValue", "allowReserved", "deprecated"):
            if parameter.get(noise) is False:
                del parameter[noise]
        schema = parameter.get("schema", {})
        if parameter.get("in") == "query" and "oneOf" in schema:
            # A query string cannot carry null: an optional parameter is simply left out.
            branches = [b for b in schema["oneOf"] if b.get("type") != "null"]
            if len(branches) == 1:
                del schema["oneOf"]
                schema.update(branches[0])
        doc = describe_property(parameter.get("in", ""), name or "", schema)
        if not parameter.get("description"):
            parameter["description"] = doc.description
        if "example" not in parameter and "examples" not in parameter:
            if doc.example is not None and _fits(doc.example, schema):
                parameter["example"] = doc.example
            else:
                with contextlib.suppress(MissingExample):
                    parameter["example"] = example_of(document, schema)
        out.append(parameter)
    if out:
        operation["parameters"] = out


# Litestar's stock texts (http.HTTPStatus phrases) say nothing about this API.
_FRAMEWORK_DESCRIPTIONS = {
    "Request fulfilled, document follows",
    "Document created, URL follows",
    "Request fulfilled, nothing follows",
    "Request accepted, processing continues off-line",
}
_SUCCESS = {"200": "OK", "201": "Created", "202": "Accepted: the work is queued", "204": "Done"}


def _replaceable(response: dict[str, Any] | None) -> bool:
    """Absent, a problem, or Litestar's own 400 shape: the shared problem response replaces it.
    An answer a handler declares with its own body (/ready's 503 is a Readiness) stays."""
    if response is None:
        return True
    content = response.get("content") or {}
    if not content or PROBLEM_MEDIA_TYPE in content:
        return True
    schema = next(iter(content.values())).get("schema", {})
    return "extra" in schema.get("properties", {})  # {status_code, detail, extra}


def _success_description(document: dict[str, Any], status: str, response: dict[str, Any]) -> str:
    lead = _SUCCESS.get(status, "Success")
    for media in response.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref")
        if ref:
            described = _resolve(document, ref).get("description")
            if described:
                return f"{lead}. {described}"
    return f"{lead}; no body." if status == "204" else f"{lead}."


def _responses(
    document: dict[str, Any], operation: dict[str, Any], path: str, facts: OperationFacts | None
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    public = facts is None or facts.public
    has_body = "requestBody" in operation
    has_parameters = bool(operation.get("parameters"))
    wanted = {status for status in responses if status.startswith(("4", "5"))}
    wanted.add("default")
    if has_body or has_parameters:
        wanted.add("400")
    if not public:
        wanted.update({"401", "403", "429"})
    if "{" in path:
        wanted.add("404")
    if has_body:
        wanted.update({"413", "422"})
    if facts is not None and facts.idempotent:
        wanted.add("409")
    for status in sorted(wanted):
        if status == "500":
            responses.pop(status)
            continue
        if status in _PROBLEM_RESPONSES and _replaceable(responses.get(status)):
            responses[status] = {"$ref": _REF + "responses/" + _PROBLEM_RESPONSES[status][0]}
    for status, response in responses.items():
        if "$ref" in response:
            continue
        if response.get("description") in _FRAMEWORK_DESCRIPTIONS:
            response["description"] = _success_description(document, status, response)
        headers = response.setdefault("headers", {})
        headers.setdefault("X-Request-ID", {"$ref": _REF + "headers/X-Request-ID"})
        if status.startswith("2") and not public:
            for header in _RATE_HEADERS:
                headers.setdefault(header, {"$ref": _REF + f"headers/{header}"})
        if status.startswith("2") and facts is not None and facts.idempotent:
            headers.setdefault(
                "Idempotent-Replayed", {"$ref": _REF + "headers/Idempotent-Replayed"}
            )


def _describe_operation(operation: dict[str, Any], facts: OperationFacts | None) -> None:
    parts = [operation.get("description") or operation.get("summary", "")]
    if facts is None or facts.public:
        operation["security"] = []
        parts.append("Public: no API key.")
    else:
        operation.pop("security", None)
        if facts.scope is not None:
            operation["x-required-scope"] = facts.scope.value
            also = "" if facts.scope is Scope.ADMIN else " (an `admin` key may call it too)"
            parts.append(f"**Scope:** `{facts.scope.value}`{also}.")
        if facts.idempotent:
            parts.append("Safe to retry with an `Idempotency-Key`.")
    operation["description"] = "\n\n".join(p.strip() for p in parts if p and p.strip())


def finish(
    document: dict[str, Any],
    facts_by_operation: dict[tuple[str, str], OperationFacts],
    rate_description: str,
) -> dict[str, Any]:
    document = _tighten(copy.deepcopy(document))
    info = document.setdefault("info", {})
    info["description"] = _INTRO.replace("{rate}", rate_description)
    document["security"] = SECURITY
    _components(document)
    _problem_schema(document)
    _schemas(document)
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            facts = facts_by_operation.get((path, method))
            _parameters(document, operation)
            if facts is not None and facts.idempotent:
                operation.setdefault("parameters", []).append(
                    {"$ref": _REF + "parameters/IdempotencyKey"}
                )
            _describe_operation(operation, facts)
            _responses(document, operation, path, facts)
            if "requestBody" in operation:
                _media_examples(document, operation["requestBody"].get("content", {}))
            for response in operation["responses"].values():
                _media_examples(document, response.get("content", {}))
    # Requests Wallguard sends (OpenAPI 3.1 `webhooks`): signed, not called with an API key.
    for item in document.get("webhooks", {}).values():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operation.setdefault("security", [])
            if "requestBody" in operation:
                _media_examples(document, operation["requestBody"].get("content", {}))
    return document


def render_openapi(settings: Settings | None = None) -> str:
    # Imported here: the app imports this module for its OpenAPI configuration.
    from service.api.app import create_app

    app = create_app(settings or Settings())
    schema = app.openapi_schema.to_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
