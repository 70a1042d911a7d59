"""The Graph API surface of the sandbox: ``/{vNN.N}/{node}`` and ``/{vNN.N}/{node}/{edge}``.

Every call goes through ``GraphApi.handle``, which does what Meta does around the endpoint
itself: reads parameters from the query string and the form body, checks the access token,
applies injected faults, counts usage for ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` and
logs the call. Errors use Graph's envelope and status codes.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import hmac
import itertools
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import structlog
from litestar import Request, Response
from litestar.status_codes import HTTP_302_FOUND

from service.sandbox.state import (
    LONG_TOKEN_SECONDS,
    SHORT_TOKEN_SECONDS,
    AppSubscription,
    AuthCode,
    Node,
    Page,
    Store,
    Token,
    decode_cursor,
    encode_cursor,
)

# Sorts after every object id: bisects to just past all children with one sort key.
_MAX_ID = "\U0010ffff"
_log = structlog.get_logger(__name__)
VERSION_RE = re.compile(r"^v\d+\.\d+$")
_UNVERSIONED = "v0.0"
# Graph's maximum number of operations in one batch request.
BATCH_LIMIT = 50
_SECRET_PARAMS = frozenset(
    {
        "access_token",
        "client_secret",
        "code",
        "fb_exchange_token",
        "appsecret_proof",
        "verify_token",
    }
)
_RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. "
    "Wait a bit and try again.",
}
DEFAULT_COMMENT_FIELDS = ("created_time", "from", "message", "id")
DEFAULT_POST_FIELDS = ("created_time", "message", "id")
DEFAULT_IG_COMMENT_FIELDS = ("timestamp", "text", "id")
DEFAULT_IG_MEDIA_FIELDS = ("id",)


class GraphError(Exception):
    """An error Graph would return; rendered as ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        transient: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.transient = transient
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient is not None:
            error["is_transient"] = self.transient
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")
        return {"error": error}


def unsupported(method: str, object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        error_type="GraphMethodException",
        subcode=33,
    )


def bad_param(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(400, 100, message, subcode=subcode)


def graph_time(unix: int) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_fields(raw: str | None, default: tuple[str, ...]) -> set[str]:
    """Top-level names of Graph's ``fields`` syntax (``a,b{c,d},e.limit(5)``)."""
    if not raw:
        return set(default)
    names: set[str] = set()
    depth = 0
    current = ""
    for ch in raw:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        elif ch == "," and depth == 0:
            names.add(current.split(".")[0].strip())
            current = ""
            continue
        if depth == 0 and ch not in "})":
            current += ch
    names.add(current.split(".")[0].strip())
    names.discard("")
    return names | {"id"}


def parse_time_param(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("+0000", "+00:00"))
    except ValueError:
        raise bad_param(f"(#100) The parameter {name} must be a unix timestamp") from None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


@dataclass
class Call:
    """One incoming Graph request, parsed."""

    method: str
    version: str
    node: str
    edge: str | None
    params: dict[str, str]
    base_url: str
    token: Token | None = None
    page_id: str | None = None  # the page whose quota this call uses
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/{self.version}/{self.node}" + (f"/{self.edge}" if self.edge else "")

    def int_param(self, name: str, default: int, low: int = 1, high: int = 100) -> int:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return max(low, min(high, int(raw)))
        except ValueError:
            raise bad_param(f"(#100) The parameter {name} must be an integer") from None

    def bool_param(self, name: str) -> bool | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise bad_param(f"(#100) Param {name} must be a boolean")


class GraphApi:
    def __init__(
        self, store: Store, http_factory: Callable[[], httpx.AsyncClient] | None = None
    ) -> None:
        self.store = store
        self.config = store.config
        self._http_factory = http_factory or (lambda: httpx.AsyncClient(timeout=5.0))

    # --- entry point -----------------------------------------------------------------------

    async def handle(
        self, request: Request[Any, Any, Any], version: str, node: str, edge: str | None
    ) -> Response[Any]:
        call = Call(request.method, version, node, edge, await _params(request), _base_url(request))
        refusal = (
            None
            if VERSION_RE.match(version)
            else GraphError(400, 2500, f"Unknown path components: /{version}/{node}")
        )
        return await self._answer(call, refusal)

    async def _answer(self, call: Call, refusal: GraphError | None = None) -> Response[Any]:
        """One call through the endpoint (or ``refusal``), as Meta answers it: errors in
        Graph's envelope, usage headers, counted and logged."""
        try:
            if refusal is not None:
                raise refusal
            response = await self._dispatch(call)
        except GraphError as error:
            response = self._error_response(call, error)
        except Exception:  # a sandbox bug must still look like Graph to the client
            _log.exception("sandbox.graph_error", path=call.path)
            response = self._error_response(
                call, GraphError(500, 1, "An unknown error has occurred.", transient=True)
            )
        self._finish(call, response)
        return response

    async def handle_batch(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """``POST /`` with ``batch=[{"method", "relative_url", "body"}, ...]``: Graph's batch
        requests. Each operation is handled as its own call (its own token check, faults,
        usage and log line) and answered as ``{"code", "headers", "body"}`` in order; the
        batch's own ``access_token`` applies to operations that name none."""
        params = await _params(request)
        base = _base_url(request)
        outer = Call("POST", "", "", None, params, base)
        try:
            operations = json.loads(params.get("batch") or "null")
        except ValueError:
            operations = None
        problem: GraphError | None = None
        if not isinstance(operations, list) or not operations:
            problem = bad_param("(#100) The parameter batch is required")
        elif len(operations) > BATCH_LIMIT:
            problem = bad_param(
                f"(#100) Too many requests in batch message. Maximum batch size is {BATCH_LIMIT}"
            )
        for fault in self.store.firing_faults(None, "POST", batch=True):
            problem = GraphError(
                fault.http_status or 400, 100, "(#100) The batch request could not be completed."
            )
        if problem is not None or not isinstance(operations, list):
            return await self._answer(outer, problem or bad_param("(#100) Invalid batch"))
        include_headers = params.get("include_headers", "true").lower() != "false"
        answers: list[dict[str, Any] | None] = []
        last: Response[Any] | None = None
        for operation in operations:
            last = await self._batch_operation(operation, params, base)
            answer: dict[str, Any] = {"code": last.status_code, "body": _body_text(last)}
            if include_headers:
                answer["headers"] = [
                    {"name": name, "value": value}
                    for name, value in last.headers.items()
                    if name.lower().startswith("x-") or name.lower() == "www-authenticate"
                ]
            answers.append(answer)
        response = Response(content=answers, status_code=200, media_type="application/json")
        if last is not None:  # the usage after the batch, as Meta reports it on the answer
            for name in ("X-App-Usage", "X-Business-Use-Case-Usage"):
                if name in last.headers:
                    response.headers[name] = last.headers[name]
        return response

    async def _batch_operation(
        self, operation: Any, batch_params: dict[str, str], base: str
    ) -> Response[Any]:
        if not isinstance(operation, dict) or not isinstance(operation.get("relative_url"), str):
            # Counted and logged like any operation.
            return await self._answer(
                Call("POST", "", "", None, {}, base),
                bad_param("(#100) Each batch operation needs a relative_url"),
            )
        method = str(operation.get("method") or "GET").upper()
        path, _, query = operation["relative_url"].lstrip("/").partition("?")
        parts = [p for p in path.split("/") if p]
        # Graph takes the version from the relative URL, else from the app's default.
        version = parts.pop(0) if parts and VERSION_RE.match(parts[0]) else _UNVERSIONED
        params = dict(parse_qsl(query, keep_blank_values=True))
        if isinstance(operation.get("body"), str):
            params.update(dict(parse_qsl(operation["body"], keep_blank_values=True)))
        for name in ("access_token", "appsecret_proof"):
            if name in batch_params and name not in params:
                params[name] = batch_params[name]
        node = parts[0] if parts else ""
        edge = parts[1] if len(parts) > 1 else None
        call = Call(method, version, node, edge, params, base)
        valid = len(parts) in (1, 2) and method in ("GET", "POST", "DELETE")
        return await self._answer(call, None if valid else unsupported(method, node or "/"))

    def _error_response(self, call: Call, error: GraphError) -> Response[Any]:
        headers = dict(error.headers)
        if error.code == 190:
            headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'
            )
        response: Response[Any] = Response(
            content=error.body(), status_code=error.status, headers=headers
        )
        response.headers["x-sandbox-error-code"] = str(error.code)
        return response

    def _finish(self, call: Call, response: Response[Any]) -> None:
        app_pct, page_pct = self.store.count_call(call.page_id)
        if "X-App-Usage" not in call.extra_headers:
            usage = {"call_count": app_pct, "total_cputime": app_pct, "total_time": app_pct}
            response.headers["X-App-Usage"] = json.dumps(usage)
        if call.page_id is not None and "X-Business-Use-Case-Usage" not in call.extra_headers:
            pct = page_pct or 0
            response.headers["X-Business-Use-Case-Usage"] = json.dumps(
                {call.page_id: [_buc_entry(pct, 0)]}
            )
        for name, value in call.extra_headers.items():
            response.headers[name] = value
        error_code = response.headers.pop("x-sandbox-error-code", None)
        self.store.log_call(
            method=call.method,
            path=call.path,
            status=response.status_code,
            params={k: v for k, v in call.params.items() if k not in _SECRET_PARAMS},
            page_id=call.page_id,
            error_code=int(error_code) if error_code else None,
        )

    # --- routing ---------------------------------------------------------------------------

    async def _dispatch(self, call: Call) -> Response[Any]:
        node, edge, method = call.node, call.edge, call.method
        if node == "dialog" and edge == "oauth" and method == "GET":
            return self._dialog(call)
        if node == "oauth" and edge == "access_token" and method == "GET":
            return self._access_token(call)
        if node == self.config.app_id:
            self._require_app_token(call)
            await self._apply_faults(call)
            if edge == "subscriptions":
                return await self._app_subscriptions(call)
            if edge is None and method == "GET":
                return _json({"id": self.config.app_id, "name": self.config.app_name})
            raise unsupported(method, node)
        token = self._authenticate(call)
        if node == "me":
            if token.kind != "user":
                if token.kind == "page" and edge is None and token.page_id:
                    node = call.node = token.page_id
                else:
                    raise GraphError(
                        400,
                        2500,
                        "An active access token must be used to query information "
                        "about the current user.",
                    )
            else:
                await self._apply_faults(call)
                if edge == "accounts" and method == "GET":
                    return self._accounts(call, token)
                if edge is None and method == "GET":
                    return _json({"id": self.store.user_id, "name": self.store.user_name})
                raise unsupported(method, "me")
        with self.store.lock:
            page = self.store.pages.get(node)
            ig_user = self.store.ig_users.get(node)
            obj = self.store.nodes.get(node)
        if page is not None:
            self._check_page_access(call, token, page.id)
            await self._apply_faults(call)
            return self._page_edge(call, token, page)
        if ig_user is not None:
            self._check_page_access(call, token, ig_user.page_id)
            await self._apply_faults(call)
            if edge == "media" and method == "GET":
                return self._list(
                    call,
                    self.store.live_children(ig_user.id),
                    newest_first=True,
                    render=lambda n, f: self._render_ig_media(n, f),
                    fields=parse_fields(call.params.get("fields"), DEFAULT_IG_MEDIA_FIELDS),
                )
            if edge is None and method == "GET":
                return _json({"id": ig_user.id, "username": ig_user.username})
            raise unsupported(method, node)
        if obj is None or obj.deleted:
            raise unsupported(method, node)
        self._check_page_access(call, token, obj.page_id)
        await self._apply_faults(call)
        return self._object(call, token, obj)

    # --- OAuth -----------------------------------------------------------------------------

    def _dialog(self, call: Call) -> Response[Any]:
        p = call.params
        if p.get("client_id") != self.config.app_id:
            raise bad_param("Invalid App ID: the client_id is not a valid app ID.")
        redirect_uri = p.get("redirect_uri")
        if not redirect_uri:
            raise bad_param("(#100) The parameter redirect_uri is required")
        scopes = tuple(s for s in re.split(r"[,\s]+", p.get("scope", "")) if s)
        code = "AQ" + secrets.token_urlsafe(48)
        with self.store.lock:
            self.store.codes[code] = AuthCode(
                code, self.store.user_id, redirect_uri, self.config.app_id, scopes
            )
        query = {"code": code}
        if "state" in p:
            query["state"] = p["state"]
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(query)}#_=_"
        return Response(content=b"", status_code=HTTP_302_FOUND, headers={"Location": location})

    def _check_client(self, call: Call) -> None:
        if call.params.get("client_id") != self.config.app_id:
            raise bad_param("Error validating application. Invalid application ID.")
        if call.params.get("client_secret") != self.config.app_secret:
            raise GraphError(400, 1, "Error validating client secret.")

    def _access_token(self, call: Call) -> Response[Any]:
        p = call.params
        if p.get("grant_type") == "fb_exchange_token":
            self._check_client(call)
            short = self.store.tokens.get(p.get("fb_exchange_token", ""))
            if short is None or short.kind != "user":
                raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
            if short.expired:
                raise GraphError(
                    400, 190, "Error validating access token: Session has expired.", subcode=463
                )
            token = self.store.new_token("user", user_id=short.user_id, ttl=LONG_TOKEN_SECONDS)
            return _json(
                {
                    "access_token": token.value,
                    "token_type": "bearer",
                    "expires_in": LONG_TOKEN_SECONDS,
                }
            )
        if p.get("grant_type") == "client_credentials":
            self._check_client(call)
            app_token = f"{self.config.app_id}|{self.config.app_secret}"
            return _json({"access_token": app_token, "token_type": "bearer"})
        self._check_client(call)
        with self.store.lock:  # a code is good for exactly one exchange, even when raced
            code = self.store.codes.get(p.get("code", ""))
            if code is None:
                raise bad_param("Invalid verification code format.", subcode=36007)
            if code.used:
                raise bad_param("This authorization code has been used.", subcode=36009)
            if p.get("redirect_uri") != code.redirect_uri:
                raise bad_param(
                    "Error validating verification code. Please make sure your redirect_uri is "
                    "identical to the one you used in the OAuth dialog request",
                    subcode=36008,
                )
            code.used = True
        token = self.store.new_token("user", user_id=code.user_id, ttl=SHORT_TOKEN_SECONDS)
        return _json(
            {"access_token": token.value, "token_type": "bearer", "expires_in": SHORT_TOKEN_SECONDS}
        )

    # --- tokens and permissions ------------------------------------------------------------

    def _require_app_token(self, call: Call) -> None:
        raw = call.params.get("access_token")
        expected = f"{self.config.app_id}|{self.config.app_secret}"
        if raw is None:
            raise GraphError(400, 104, "An access token is required to request this resource.")
        if raw != expected:
            raise GraphError(400, 190, "Invalid OAuth access token signature.")

    def _authenticate(self, call: Call) -> Token:
        raw = call.params.get("access_token")
        if not raw:
            raise GraphError(400, 104, "An access token is required to request this resource.")
        with self.store.lock:
            token = self.store.tokens.get(raw)
            if token is None:
                raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
            call.token = token
            call.page_id = token.page_id
            if token.expires_at is not None and token.expires_at < self.store.now():
                token.expired = True
            if token.expired:
                raise GraphError(
                    400,
                    190,
                    "Error validating access token: Session has expired on "
                    f"{datetime.now(tz=UTC):%A, %d-%b-%y %H:%M:%S} PST. "
                    "The current time is later.",
                    subcode=463,
                )
        proof = call.params.get("appsecret_proof")
        if proof is not None and self.config.check_appsecret_proof:
            expected = hmac.new(
                self.config.app_secret.encode(), raw.encode(), hashlib.sha256
            ).hexdigest()
            if not hmac.compare_digest(proof, expected):
                raise GraphError(
                    400,
                    100,
                    "Invalid appsecret_proof provided in the API argument",
                    error_type="GraphMethodException",
                )
        return token

    def _check_page_access(self, call: Call, token: Token, page_id: str) -> None:
        call.page_id = page_id
        with self.store.lock:
            page = self.store.pages[page_id]
            if token.kind == "page" and token.page_id != page_id:
                raise unsupported(call.method, call.node)
            if token.kind == "user" and page.owner_user_id != token.user_id:
                raise unsupported(call.method, call.node)
        if call.method != "GET" and token.kind != "page":
            raise GraphError(
                403, 210, "(#210) A page access token is required to request this resource."
            )

    async def _apply_faults(self, call: Call) -> None:
        faults = self.store.firing_faults(call.page_id, call.method)
        for fault in faults:
            if fault.kind == "latency" and fault.latency_ms > 0:
                await asyncio.sleep(fault.latency_ms / 1000)
        for fault in faults:
            if fault.kind == "expire_token" and call.token is not None:
                call.token.expired = True
                raise GraphError(
                    400,
                    190,
                    "Error validating access token: The session has been invalidated because "
                    "the user changed their password or Facebook has changed the session for "
                    "security reasons.",
                    subcode=460,
                )
            if fault.kind == "server_error":
                status = fault.http_status or 500
                raise GraphError(
                    status,
                    2 if status == 503 else 1 if status >= 500 else 100,
                    "An unexpected error has occurred. Please retry your request later."
                    if status == 503
                    else "An unknown error has occurred."
                    if status >= 500
                    else "(#100) The request could not be completed.",
                    # A 4xx status asks for a refusal the client must not retry by itself.
                    transient=status >= 500,
                )
            if fault.kind == "rate_limit":
                minutes = fault.regain_minutes
                full = {"call_count": 100, "total_cputime": 100, "total_time": 100}
                call.extra_headers["X-App-Usage"] = json.dumps(full)
                buc_page = fault.page_id or call.page_id
                if buc_page is not None:
                    call.extra_headers["X-Business-Use-Case-Usage"] = json.dumps(
                        {buc_page: [_buc_entry(100, minutes)]}
                    )
                default_status = 403 if fault.code in (4, 17, 32) else 400
                raise GraphError(
                    fault.http_status or default_status,
                    fault.code,
                    _RATE_LIMIT_MESSAGES.get(fault.code, f"(#{fault.code}) Rate limit reached"),
                    transient=True,
                )

    # --- app webhook subscription ----------------------------------------------------------

    async def _app_subscriptions(self, call: Call) -> Response[Any]:
        p = call.params
        if call.method == "GET":
            data = [
                {
                    "object": s.object,
                    "callback_url": s.callback_url,
                    "active": True,
                    "fields": [{"name": f, "version": call.version} for f in s.fields],
                }
                for s in self.store.app_subscriptions.values()
            ]
            return _json({"data": data})
        if call.method == "DELETE":
            if "object" in p:
                self.store.app_subscriptions.pop(p["object"], None)
            else:
                self.store.app_subscriptions.clear()
            return _json({"success": True})
        for name in ("object", "callback_url", "verify_token"):
            if not p.get(name):
                raise bad_param(f"(#100) The parameter {name} is required")
        fields = [f for f in re.split(r"[,\s]+", p.get("fields", "")) if f]
        if not fields:
            raise bad_param("(#100) The parameter fields is required")
        challenge = str(secrets.randbelow(10**9) + 10**9)
        query = urlencode(
            {
                "hub.mode": "subscribe",
                "hub.challenge": challenge,
                "hub.verify_token": p["verify_token"],
            }
        )
        separator = "&" if "?" in p["callback_url"] else "?"
        try:
            async with self._http_factory() as http:
                target = self.store.config.reach(p["callback_url"])
                answer = await http.get(f"{target}{separator}{query}")
            ok = answer.status_code == 200 and answer.text.strip() == challenge
            detail = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            ok, detail = False, type(exc).__name__
        if not ok:
            raise GraphError(
                400,
                2200,
                "(#2200) callback verification failed: The URL couldn't be validated. "
                f'Response does not match challenge, expected value="{challenge}" ({detail})',
            )
        self.store.app_subscriptions[p["object"]] = AppSubscription(
            object=p["object"],
            callback_url=p["callback_url"],
            fields=fields,
            verify_token=p["verify_token"],
            include_values=p.get("include_values", "true") == "true",
        )
        return _json({"success": True})

    # --- pages -----------------------------------------------------------------------------

    def _accounts(self, call: Call, token: Token) -> Response[Any]:
        fields = parse_fields(
            call.params.get("fields"),
            ("access_token", "category", "category_list", "name", "id", "tasks"),
        )
        with self.store.lock:
            pages = [p for p in self.store.pages.values() if p.owner_user_id == token.user_id]
            pages.sort(key=lambda p: int(p.id))

        def render(page: Page, wanted: set[str]) -> dict[str, Any]:
            item: dict[str, Any] = {"id": page.id}
            if "name" in wanted:
                item["name"] = page.name
            if "access_token" in wanted:
                item["access_token"] = self.store.page_token_for(token.value, page.id)
            if "category" in wanted:
                item["category"] = page.category
            if "category_list" in wanted:
                item["category_list"] = [{"id": "2256", "name": page.category}]
            if "tasks" in wanted:
                item["tasks"] = list(page.tasks)
            if "instagram_business_account" in wanted and page.ig_user_id:
                item["instagram_business_account"] = {"id": page.ig_user_id}
            return item

        keyed = [((int(p.id), 0), p) for p in pages]
        return self._paginate(call, keyed, render, fields, descending=False)

    def _page_edge(self, call: Call, token: Token, page: Page) -> Response[Any]:
        edge, method = call.edge, call.method
        if edge is None and method == "GET":
            fields = parse_fields(call.params.get("fields"), ("name", "id"))
            item: dict[str, Any] = {"id": page.id, "name": page.name}
            if "category" in fields:
                item["category"] = page.category
            if "instagram_business_account" in fields and page.ig_user_id:
                item["instagram_business_account"] = {"id": page.ig_user_id}
            if "access_token" in fields and token.kind == "user":
                item["access_token"] = self.store.page_token_for(token.value, page.id)
            return _json(item)
        if edge == "subscribed_apps":
            return self._subscribed_apps(call, page)
        if edge in ("feed", "posts", "published_posts") and method == "GET":
            with self.store.lock:
                posts = self.store.live_children(page.id)
                if edge != "feed":
                    posts = [p for p in posts if p.by_page]
            since = parse_time_param(call.params.get("since"), "since")
            until = parse_time_param(call.params.get("until"), "until")
            if since is not None:
                posts = [p for p in posts if p.created_time >= since]
            if until is not None:
                posts = [p for p in posts if p.created_time <= until]
            fields = parse_fields(call.params.get("fields"), DEFAULT_POST_FIELDS)
            return self._list(
                call, posts, newest_first=True, render=self._render_post, fields=fields
            )
        if edge == "feed" and method == "POST":
            message = call.params.get("message", "")
            if not message:
                raise bad_param("(#100) Missing message or attachment")
            post = self.store.add_post(page.id, message)
            return _json({"id": post.id})
        raise unsupported(method, call.node)

    def _subscribed_apps(self, call: Call, page: Page) -> Response[Any]:
        app_id = self.config.app_id
        with self.store.lock:
            if call.method == "GET":
                data = [
                    {
                        "category": "Business",
                        "link": f"https://sandbox.invalid/apps/{aid}",
                        "name": self.config.app_name if aid == app_id else aid,
                        "id": aid,
                        "subscribed_fields": fields,
                    }
                    for aid, fields in page.subscribed_apps.items()
                ]
                return _json({"data": data})
            if call.method == "DELETE":
                page.subscribed_apps.pop(app_id, None)
                return _json({"success": True})
            fields = [f for f in re.split(r"[,\s]+", call.params.get("subscribed_fields", "")) if f]
            if not fields:
                raise bad_param("(#100) The parameter subscribed_fields is required.")
            known = {"feed", "mention", "messages", "ratings", "live_videos"}
            unknown = [f for f in fields if f not in known]
            if unknown:
                raise bad_param(
                    f"(#100) Param subscribed_fields must be one of {sorted(known)} - "
                    f'got "{unknown[0]}"'
                )
            if "MODERATE" not in page.tasks and "MANAGE" not in page.tasks:
                raise GraphError(
                    403,
                    200,
                    "(#200) Requires pages_manage_metadata permission to manage the object",
                )
            page.subscribed_apps[app_id] = fields
            return _json({"success": True})

    # --- posts, comments, media ------------------------------------------------------------

    def _object(self, call: Call, token: Token, obj: Node) -> Response[Any]:
        edge, method = call.edge, call.method
        is_ig = obj.kind in ("ig_media", "ig_comment")
        if edge is None and method == "GET":
            if obj.kind == "post":
                fields = parse_fields(call.params.get("fields"), DEFAULT_POST_FIELDS)
                return _json(self._render_post(obj, fields))
            if obj.kind == "comment":
                fields = parse_fields(call.params.get("fields"), DEFAULT_COMMENT_FIELDS)
                return _json(self._render_comment(obj, fields))
            if obj.kind == "ig_media":
                fields = parse_fields(call.params.get("fields"), DEFAULT_IG_MEDIA_FIELDS)
                return _json(self._render_ig_media(obj, fields))
            fields = parse_fields(call.params.get("fields"), DEFAULT_IG_COMMENT_FIELDS)
            return _json(self._render_ig_comment(obj, fields))
        if edge is None and method == "POST":
            return self._update(call, obj)
        if edge is None and method == "DELETE":
            if obj.kind == "ig_media":
                raise unsupported(method, call.node)
            self._require_moderate(obj.page_id)
            self.store.delete_node(obj.id)
            return _json({"success": True})
        if edge in ("comments", "replies") and method == "GET":
            if edge == "replies" and obj.kind != "ig_comment":
                raise unsupported(method, call.node)
            if is_ig:
                fields = parse_fields(call.params.get("fields"), DEFAULT_IG_COMMENT_FIELDS)
                return self._list_children(
                    call, obj.id, newest_first=True, render=self._render_ig_comment, fields=fields
                )
            filter_ = call.params.get("filter", "toplevel")
            if filter_ not in ("toplevel", "stream"):
                raise bad_param(
                    "(#100) filter must be one of the following values: toplevel, stream"
                )
            order = call.params.get("order", "chronological")
            if order not in ("chronological", "reverse_chronological"):
                raise bad_param(
                    "(#100) order must be one of the following values: "
                    "chronological, reverse_chronological"
                )
            fields = parse_fields(call.params.get("fields"), DEFAULT_COMMENT_FIELDS)
            moderate = "MODERATE" in self.store.pages[obj.page_id].tasks
            if not moderate:
                # Meta withholds comment ids unless the user has the MODERATE task.
                fields.discard("id")
            return self._list_children(
                call,
                obj.id,
                newest_first=order == "reverse_chronological",
                render=self._render_comment,
                fields=fields,
                stream=filter_ == "stream" and obj.kind == "post",
            )
        if edge in ("comments", "replies") and method == "POST":
            if obj.kind == "ig_comment" and edge != "replies":
                raise unsupported(method, call.node)
            message = call.params.get("message", "")
            if not message.strip():
                raise bad_param("(#100) Missing message or attachment")
            self._require_moderate(obj.page_id)
            reply = self.store.add_comment(obj.id, message)
            return _json({"id": reply.id})
        raise unsupported(method, call.node)

    def _require_moderate(self, page_id: str) -> None:
        if "MODERATE" not in self.store.pages[page_id].tasks:
            raise GraphError(
                403,
                200,
                "(#200) Requires pages_manage_engagement permission and the MODERATE task on "
                "the Page to manage the object",
            )

    def _update(self, call: Call, obj: Node) -> Response[Any]:
        if obj.kind == "comment":
            hidden = call.bool_param("is_hidden")
            if hidden is None:
                message = call.params.get("message")
                if message is None or not obj.by_page:
                    raise bad_param("(#100) The parameter is_hidden is required")
                self.store.edit_message(obj.id, message)
                return _json({"success": True})
            self._require_moderate(obj.page_id)
            if obj.by_page:
                raise bad_param("(#100) The page's own comments can't be hidden", subcode=1446036)
            self.store.set_hidden(obj.id, hidden)
            return _json({"success": True})
        if obj.kind == "ig_comment":
            hidden = call.bool_param("hide")
            if hidden is None:
                raise bad_param("(#100) The parameter hide is required")
            self._require_moderate(obj.page_id)
            if obj.by_page:
                raise bad_param("(#100) Cannot hide the account's own comment")
            self.store.set_hidden(obj.id, hidden)
            return _json({"success": True})
        raise unsupported(call.method, call.node)

    # --- rendering and paging --------------------------------------------------------------

    def _permalink(self, node: Node) -> str:
        post_part = node.root_id.split("_", 1)[-1]
        base = f"https://www.facebook.com/{node.page_id}/posts/{post_part}"
        return base if node.kind == "post" else f"{base}?comment_id={node.id.split('_')[-1]}"

    def _render_post(self, node: Node, fields: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {"id": node.id}
        if "created_time" in fields:
            item["created_time"] = graph_time(node.created_time)
        if "message" in fields and node.message:
            item["message"] = node.message
        if "from" in fields:
            item["from"] = {"name": node.from_name, "id": node.from_id}
        if "permalink_url" in fields:
            item["permalink_url"] = self._permalink(node)
        if "is_hidden" in fields:
            item["is_hidden"] = node.is_hidden
        return item

    def _render_comment(self, node: Node, fields: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if "created_time" in fields:
            item["created_time"] = graph_time(node.created_time)
        if "from" in fields:
            item["from"] = {"name": node.from_name, "id": node.from_id}
        if "message" in fields:
            item["message"] = node.message
        if "is_hidden" in fields:
            item["is_hidden"] = node.is_hidden
        if "can_hide" in fields:
            item["can_hide"] = not node.by_page
        if "permalink_url" in fields:
            item["permalink_url"] = self._permalink(node)
        if "parent" in fields and node.parent_id != node.root_id:
            parent = self.store.nodes[node.parent_id]
            item["parent"] = {
                "created_time": graph_time(parent.created_time),
                "from": {"name": parent.from_name, "id": parent.from_id},
                "message": parent.message,
                "id": parent.id,
            }
        if "comment_count" in fields:
            item["comment_count"] = len(self.store.live_children(node.id))
        if "id" in fields:
            item["id"] = node.id
        return item

    def _render_ig_media(self, node: Node, fields: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {"id": node.id}
        if "caption" in fields:
            item["caption"] = node.message
        if "timestamp" in fields:
            item["timestamp"] = graph_time(node.created_time)
        if "media_type" in fields:
            item["media_type"] = "IMAGE"
        if "permalink" in fields:
            item["permalink"] = f"https://www.instagram.com/p/SBX{node.id[-8:]}/"
        if "comments_count" in fields:
            item["comments_count"] = len(self.store.descendants(node.id))
        if "username" in fields:
            item["username"] = node.from_name
        return item

    def _render_ig_comment(self, node: Node, fields: set[str]) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if "timestamp" in fields:
            item["timestamp"] = graph_time(node.created_time)
        if "text" in fields:
            item["text"] = node.message
        if "username" in fields:
            item["username"] = node.from_name
        if "from" in fields:
            item["from"] = {"id": node.from_id, "username": node.from_name}
        if "hidden" in fields:
            item["hidden"] = node.is_hidden
        if "parent_id" in fields and node.parent_id != node.root_id:
            item["parent_id"] = node.parent_id
        if "media" in fields:
            item["media"] = {"id": node.root_id}
        item["id"] = node.id
        return item

    def _list(
        self,
        call: Call,
        nodes: list[Node],
        *,
        newest_first: bool,
        render: Callable[[Node, set[str]], dict[str, Any]],
        fields: set[str],
    ) -> Response[Any]:
        keyed = [(n.sort_key, n) for n in nodes]
        if newest_first:
            keyed.reverse()
        return self._paginate(call, keyed, render, fields, descending=newest_first)

    def _list_children(
        self,
        call: Call,
        parent_id: str,
        *,
        newest_first: bool,
        render: Callable[[Node, set[str]], dict[str, Any]],
        fields: set[str],
        stream: bool = False,
    ) -> Response[Any]:
        """``_list`` of an object's direct comments (``stream``: of every comment under the
        post, replies included), the same pages and cursors, read from the store's sorted
        index by bisection: a page costs its own size, not the whole thread's. A storm's post
        holds hundreds of thousands of comments, and sorting them all for every page (each poll
        reads the newest pages of its posts) made the sandbox, not the system under test, the
        slow part of long benchmarks."""
        limit = call.int_param("limit", 25)
        after, before = call.params.get("after"), call.params.get("before")
        step = -1 if newest_first else 1
        with self.store.lock:
            index = self.store.streams if stream else self.store.children
            entries = index.get(parent_id, [])
            first = len(entries) - 1 if newest_first else 0

            def walk(i: int, direction: int) -> Iterator[tuple[int, Node]]:
                while 0 <= i < len(entries):
                    node = self.store.nodes[entries[i][2]]
                    # A stream leaves out the replies to a deleted comment, as Meta does.
                    if not node.deleted and not (stream and self._under_deleted(node)):
                        yield i, node
                    i += direction

            def at_or_after(key: tuple[int, int]) -> int:
                return bisect.bisect_left(entries, key)

            def after_all(key: tuple[int, int]) -> int:
                return bisect.bisect_right(entries, (*key, _MAX_ID))

            if after:
                key = decode_cursor(after)
                if key is None:
                    raise bad_param("(#100) The after cursor is not valid")
                # The first item beyond the cursor in display order.
                start = at_or_after(key) - 1 if newest_first else after_all(key)
            elif before:
                key = decode_cursor(before)
                if key is None:
                    raise bad_param("(#100) The before cursor is not valid")
                # As _paginate: the page ends where the cursor's item is and starts ``limit``
                # items earlier, or at the first item.
                end = after_all(key) - 1 if newest_first else at_or_after(key)
                earlier = list(itertools.islice(walk(end - step, -step), limit))
                start = earlier[-1][0] if len(earlier) == limit else first
            else:
                start = first
            window = list(itertools.islice(walk(start, step), limit))
            data = [render(node, fields) for _, node in window]
            more = bool(window) and next(walk(window[-1][0] + step, step), None) is not None
            less = bool(window) and next(walk(window[0][0] - step, -step), None) is not None
        keys = (window[0][1].sort_key, window[-1][1].sort_key) if window else None
        return _page(call, limit, data, keys, more=more, less=less)

    def _under_deleted(self, node: Node) -> bool:
        parent = self.store.nodes.get(node.parent_id)
        while parent is not None and parent.kind in ("comment", "ig_comment"):
            if parent.deleted:
                return True
            parent = self.store.nodes.get(parent.parent_id)
        return False

    def _paginate(
        self,
        call: Call,
        keyed: list[tuple[tuple[int, int], Any]],
        render: Callable[[Any, set[str]], dict[str, Any]],
        fields: set[str],
        *,
        descending: bool,
    ) -> Response[Any]:
        """Graph cursor paging over items already in display order."""
        limit = call.int_param("limit", 25)
        start = 0
        after = call.params.get("after")
        before = call.params.get("before")
        if after:
            key = decode_cursor(after)
            if key is None:
                raise bad_param("(#100) The after cursor is not valid")
            start = next(
                (i for i, (k, _) in enumerate(keyed) if (k < key if descending else k > key)),
                len(keyed),
            )
        elif before:
            key = decode_cursor(before)
            if key is None:
                raise bad_param("(#100) The before cursor is not valid")
            end = next(
                (i for i, (k, _) in enumerate(keyed) if (k <= key if descending else k >= key)),
                len(keyed),
            )
            start = max(0, end - limit)
        window = keyed[start : start + limit]
        with self.store.lock:
            data = [render(item, fields) for _, item in window]
        keys = (window[0][0], window[-1][0]) if window else None
        return _page(call, limit, data, keys, more=start + limit < len(keyed), less=start > 0)


def _page(
    call: Call,
    limit: int,
    data: list[dict[str, Any]],
    keys: tuple[tuple[int, int], tuple[int, int]] | None,
    *,
    more: bool,
    less: bool,
) -> Response[Any]:
    """A Graph list page: ``data``, and when it is not empty the cursors of its first and last
    item (``keys``) and the links to the pages after (``more``) and before (``less``) it."""
    body: dict[str, Any] = {"data": data}
    if keys is not None:
        cursors = {"before": encode_cursor(keys[0]), "after": encode_cursor(keys[1])}
        paging: dict[str, Any] = {"cursors": cursors}
        query = {k: v for k, v in call.params.items() if k not in ("after", "before")}
        if more:
            next_query = urlencode({**query, "limit": str(limit), "after": cursors["after"]})
            paging["next"] = f"{call.base_url}{call.path}?{next_query}"
        if less:
            prev_query = urlencode({**query, "limit": str(limit), "before": cursors["before"]})
            paging["previous"] = f"{call.base_url}{call.path}?{prev_query}"
        body["paging"] = paging
    return _json(body)


def _buc_entry(pct: int, regain_minutes: int) -> dict[str, Any]:
    return {
        "type": "pages",
        "call_count": pct,
        "total_cputime": max(0, pct - 5) if pct < 100 else 100,
        "total_time": max(0, pct - 5) if pct < 100 else 100,
        "estimated_time_to_regain_access": regain_minutes,
    }


def _param_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


async def _params(request: Request[Any, Any, Any]) -> dict[str, str]:
    """A call's parameters as Graph reads them: query string, then a form or JSON body, and
    the token from an ``Authorization`` header when no ``access_token`` was given."""
    params = {k: v for k, v in request.query_params.items()}
    if request.method in ("POST", "DELETE"):
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        if body and "json" in content_type:
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = {}
            if isinstance(decoded, dict):
                params.update({k: _param_str(v) for k, v in decoded.items()})
        elif body:
            params.update(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
    authorization = request.headers.get("authorization", "")
    if "access_token" not in params and " " in authorization:
        scheme, value = authorization.split(" ", 1)
        if scheme.lower() in ("bearer", "oauth"):
            params["access_token"] = value.strip()
    return params


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


def _body_text(response: Response[Any]) -> str:
    """A response's body as the JSON text a batch answer carries."""
    content = response.content
    if isinstance(content, bytes):
        return content.decode("utf-8")
    if isinstance(content, str):
        return content
    return json.dumps(content)


def _json(content: dict[str, Any], status: int = 200) -> Response[Any]:
    # Graph answers text/javascript for historical reasons but clients only need JSON.
    return Response(content=content, status_code=status, media_type="application/json")
