"""Typed async client for Meta's Graph API (Facebook Pages and Instagram professional accounts).

One ``GraphClient`` per process is enough: it holds the httpx connection pool and the last usage
the platform reported per page, which it uses to slow itself down before Meta throttles it.

- Failures are mapped to service/platforms/errors.py; transient ones (5xx, timeouts, Graph codes
  1 and 2) are retried here with exponential backoff and jitter, a bounded number of times.
  Replies are not retried once the request may have reached Meta, so a comment is never
  answered twice.
- Tokens go in the query string (GET) or the form body (POST/DELETE), as Graph documents, and
  never into a log line or an exception message: paths are logged without their query, and any
  text that could quote a URL goes through ``redact``.
- Works unchanged against graph.facebook.com and against the sandbox (service/sandbox).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import httpx
import msgspec
import structlog

from service.platforms.errors import (
    PermissionMissing,
    PlatformBadRequest,
    PlatformError,
    PlatformNotFound,
    PlatformUnavailable,
    RateLimited,
    TokenInvalid,
)
from service.platforms.limits import APP, LimitStore, MemoryLimits, page_scope, token_scope
from service.platforms.schemas import (
    AppUsage,
    BusinessUsage,
    Comment,
    IgComment,
    IgMedia,
    PageAccount,
    Post,
    SubscribedApp,
    Usage,
    UserToken,
)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_DIALOG_URL = "https://www.facebook.com"
DEFAULT_VERSION = "v21.0"
# Graph's maximum number of operations in one batch request.
GRAPH_BATCH_LIMIT = 50
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_SCOPES: tuple[str, ...] = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_metadata",
    "instagram_basic",
    "instagram_manage_comments",
)

COMMENT_FIELDS = "id,message,from,created_time,is_hidden,can_hide,permalink_url,parent"
POST_FIELDS = "id,message,created_time,from,permalink_url"
PAGE_FIELDS = "id,name,access_token,tasks,instagram_business_account"
IG_MEDIA_FIELDS = "id,caption,timestamp,media_type,permalink,comments_count"
IG_COMMENT_FIELDS = "id,text,username,from,timestamp,hidden,parent_id,media"

# Graph codes, grouped by what the caller should do about them.
_TOKEN_CODES = frozenset({102, 190})
_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
_PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
_TRANSIENT_CODES = frozenset({1, 2})
_UNKNOWN_OBJECT_SUBCODE = 33
# Seconds to wait after a rate limit when Meta gives no estimate.
_DEFAULT_RETRY_AFTER = 60.0

_SENSITIVE_PARAMS = (
    "access_token",
    "client_secret",
    "fb_exchange_token",
    "code",
    "appsecret_proof",
    "input_token",
    "verify_token",
)
_REDACT_RE = re.compile(r"(?i)\b(" + "|".join(_SENSITIVE_PARAMS) + r")=([^&\s\"']+)")
_PERMISSION_RE = re.compile(
    r"\b((?:pages|instagram|business|read|publish|manage|public)_[a-z_]+)\b"
)

T = TypeVar("T")
_log = structlog.get_logger(__name__)


def redact(text: str) -> str:
    """Replace the values of token-like query parameters in ``text`` with ``***``."""
    return _REDACT_RE.sub(lambda m: f"{m.group(1)}=***", text)


class _RedactUrls(logging.Filter):
    """httpx logs every request URL at INFO; Graph URLs carry access tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact(str(arg)) if isinstance(arg, str | httpx.URL) else arg for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    """Redact tokens from the ``httpx`` logger's lines (idempotent; done at import)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in logger.filters):
        logger.addFilter(_RedactUrls())


install_log_redaction()


def parse_graph_time(value: str | None) -> datetime | None:
    """Graph's ``2024-05-01T10:00:00+0000`` (or ISO 8601, or unix seconds) as aware datetime."""
    if value is None or value == "":
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), tz=UTC)
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- Graph's wire shapes --------------------------------------------------------------------


class _Ref(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    username: str | None = None


class _Cursors(msgspec.Struct):
    before: str | None = None
    after: str | None = None


class _Paging(msgspec.Struct):
    cursors: _Cursors | None = None
    next: str | None = None
    previous: str | None = None


class _Page(msgspec.Struct, Generic[T]):
    data: list[T] = msgspec.field(default_factory=list)
    paging: _Paging | None = None

    def next_cursor(self) -> str | None:
        # Graph's end of list is "no next link", even when cursors are present.
        if self.paging is None or not self.paging.next or self.paging.cursors is None:
            return None
        return self.paging.cursors.after


class _WireToken(msgspec.Struct):
    access_token: str
    token_type: str = "bearer"
    expires_in: int | None = None


class _WireAccount(msgspec.Struct):
    id: str
    name: str = ""
    access_token: str = ""
    tasks: list[str] = msgspec.field(default_factory=list)
    instagram_business_account: _Ref | None = None


class _WireSubscribedApp(msgspec.Struct):
    id: str
    name: str | None = None
    subscribed_fields: list[str] = msgspec.field(default_factory=list)


class _WirePost(msgspec.Struct):
    id: str
    message: str | None = None
    created_time: str | None = None
    from_: _Ref | None = msgspec.field(name="from", default=None)
    permalink_url: str | None = None


class _WireComment(msgspec.Struct):
    id: str
    message: str | None = None
    from_: _Ref | None = msgspec.field(name="from", default=None)
    created_time: str | None = None
    is_hidden: bool | None = None
    can_hide: bool | None = None
    permalink_url: str | None = None
    parent: _Ref | None = None


class _WireIgMedia(msgspec.Struct):
    id: str
    caption: str | None = None
    timestamp: str | None = None
    media_type: str | None = None
    permalink: str | None = None
    comments_count: int | None = None


class _WireIgComment(msgspec.Struct):
    id: str
    text: str | None = None
    username: str | None = None
    from_: _Ref | None = msgspec.field(name="from", default=None)
    timestamp: str | None = None
    hidden: bool | None = None
    parent_id: str | None = None
    media: _Ref | None = None


class _Success(msgspec.Struct):
    success: bool = False


class _BatchHeader(msgspec.Struct):
    name: str
    value: str


class _BatchAnswer(msgspec.Struct):
    """One operation's answer in a batch: a status, headers and a JSON body as text."""

    code: int
    body: str | None = None
    headers: list[_BatchHeader] | None = None


class _Created(msgspec.Struct):
    id: str


class _WireError(msgspec.Struct):
    message: str = "Unknown error"
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    fbtrace_id: str | None = None
    is_transient: bool | None = None
    error_user_msg: str | None = None


class _ErrorEnvelope(msgspec.Struct):
    error: _WireError


# --- conversions ----------------------------------------------------------------------------


def _to_comment(wire: _WireComment, post_id: str | None = None) -> Comment:
    return Comment(
        id=wire.id,
        message=wire.message,
        from_id=wire.from_.id if wire.from_ else None,
        from_name=wire.from_.name if wire.from_ else None,
        created_time=parse_graph_time(wire.created_time),
        is_hidden=wire.is_hidden,
        can_hide=wire.can_hide,
        permalink_url=wire.permalink_url,
        parent_id=wire.parent.id if wire.parent else None,
        post_id=post_id,
    )


def _to_post(wire: _WirePost) -> Post:
    return Post(
        id=wire.id,
        message=wire.message,
        created_time=parse_graph_time(wire.created_time),
        from_id=wire.from_.id if wire.from_ else None,
        from_name=wire.from_.name if wire.from_ else None,
        permalink_url=wire.permalink_url,
    )


def _to_ig_comment(wire: _WireIgComment, media_id: str | None) -> IgComment:
    return IgComment(
        id=wire.id,
        text=wire.text,
        username=wire.username or (wire.from_.username if wire.from_ else None),
        from_id=wire.from_.id if wire.from_ else None,
        timestamp=parse_graph_time(wire.timestamp),
        hidden=wire.hidden,
        parent_id=wire.parent_id,
        media_id=(wire.media.id if wire.media and wire.media.id else media_id),
    )


def _to_ig_media(wire: _WireIgMedia) -> IgMedia:
    return IgMedia(
        id=wire.id,
        caption=wire.caption,
        timestamp=parse_graph_time(wire.timestamp),
        media_type=wire.media_type,
        permalink=wire.permalink,
        comments_count=wire.comments_count,
    )


def _unix(value: datetime | int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    return str(int(value))


# --- usage and errors -----------------------------------------------------------------------


def parse_usage_headers(
    headers: Mapping[str, str],
) -> tuple[AppUsage | None, dict[str, BusinessUsage]]:
    """``X-App-Usage`` and ``X-Business-Use-Case-Usage`` as sent by Meta; junk is ignored."""
    app: AppUsage | None = None
    pages: dict[str, BusinessUsage] = {}
    raw_app = headers.get("x-app-usage")
    if raw_app:
        try:
            app = msgspec.json.decode(raw_app, type=AppUsage)
        except msgspec.MsgspecError:
            app = None
    raw_buc = headers.get("x-business-use-case-usage")
    if raw_buc:
        try:
            decoded = msgspec.json.decode(raw_buc, type=dict[str, list[BusinessUsage]])
        except msgspec.MsgspecError:
            decoded = {}
        for page_id, entries in decoded.items():
            if entries:
                pages[page_id] = max(
                    entries, key=lambda e: (e.peak, e.estimated_time_to_regain_access)
                )
    return app, pages


def _retry_after(headers: Mapping[str, str]) -> float:
    header = headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    _, pages = parse_usage_headers(headers)
    regain = max((p.estimated_time_to_regain_access for p in pages.values()), default=0.0)
    if regain > 0:
        return float(regain) * 60.0  # Meta gives minutes
    return _DEFAULT_RETRY_AFTER


def error_from_response(response: httpx.Response, *, context: str = "") -> PlatformError:
    """Map a non-2xx Graph answer to the error hierarchy. ``context`` must be token-free."""
    return error_from(response.status_code, response.content, response.headers, context=context)


def error_from(
    status: int, content: bytes, headers: Mapping[str, str], *, context: str = ""
) -> PlatformError:
    """Map a non-2xx Graph status and body (a response, or one answer of a batch) to the error
    hierarchy. ``context`` must be token-free."""
    wire: _WireError | None
    try:
        wire = msgspec.json.decode(content, type=_ErrorEnvelope).error
    except msgspec.MsgspecError:
        wire = None
    code = wire.code if wire else None
    subcode = wire.error_subcode if wire else None
    text = redact(wire.message if wire else f"HTTP {status}")
    message = f"{context}: {text}" if context else text
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "subcode": subcode,
        "error_type": wire.type if wire else None,
        "fbtrace_id": wire.fbtrace_id if wire else None,
    }
    if code in _TOKEN_CODES or (code is None and status == 401):
        return TokenInvalid(message, **common)
    if code in _RATE_LIMIT_CODES or (code is None and status == 429):
        return RateLimited(message, retry_after=_retry_after(headers), **common)
    if code in _PERMISSION_CODES or (code is None and status == 403):
        found = _PERMISSION_RE.search(wire.message if wire else "")
        return PermissionMissing(message, permission=found.group(1) if found else None, **common)
    if code == 803 or (code == 100 and subcode == _UNKNOWN_OBJECT_SUBCODE):
        return PlatformNotFound(message, **common)
    if code is None and status == 404:
        return PlatformNotFound(message, **common)
    if status >= 500 or code in _TRANSIENT_CODES or (wire is not None and wire.is_transient):
        return PlatformUnavailable(message, **common)
    return PlatformBadRequest(message, **common)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


# --- the client -----------------------------------------------------------------------------


class GraphClient:
    """Async Graph API client. Use as ``async with GraphClient(...) as graph:`` or call aclose().

    ``http``: an ``httpx.AsyncClient`` to use (tests pass one with ``httpx.MockTransport``); it is
    not closed by ``aclose``. ``sleep`` and ``jitter`` are injectable so tests never wait.
    """

    def __init__(
        self,
        *,
        app_id: str = "",
        app_secret: str = "",
        base_url: str = DEFAULT_GRAPH_URL,
        version: str = DEFAULT_VERSION,
        http: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        throttle_threshold: float = 80.0,
        throttle_max_sleep: float = 5.0,
        appsecret_proof: bool = True,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        limits: LimitStore | None = None,
    ) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.throttle_threshold = throttle_threshold
        self.throttle_max_sleep = throttle_max_sleep
        self._appsecret_proof = appsecret_proof and bool(app_secret)
        self._sleep = sleep
        self._jitter = jitter
        # The rate-limit waits every caller honours (service/platforms/limits.py); the
        # pipeline shares them between processes through Redis.
        self.limits: LimitStore = limits or MemoryLimits()
        self._app_usage: AppUsage | None = None
        self._page_usage: dict[str, BusinessUsage] = {}
        # token fingerprint -> page id, learnt from BUC headers, so a call by comment id can
        # still be slowed down for the page it belongs to; never the token itself.
        self._token_pages: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"GraphClient(base_url={self.base_url!r}, version={self.version!r})"

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- usage ---------------------------------------------------------------------------

    @property
    def usage(self) -> Usage:
        """The last usage Meta reported: app-wide and per page id."""
        return Usage(app=self._app_usage, pages=dict(self._page_usage))

    def usage_for(self, page_id: str) -> BusinessUsage | None:
        return self._page_usage.get(page_id)

    def throttle_delay(self, page_id: str | None) -> float:
        """Seconds to pause before a call, growing linearly from the threshold to 100 %."""
        peak = self.usage.peak_for(page_id)
        if peak < self.throttle_threshold:
            return 0.0
        span = max(1.0, 100.0 - self.throttle_threshold)
        fraction = min(1.0, (peak - self.throttle_threshold) / span)
        return max(0.05, fraction) * self.throttle_max_sleep

    def _record_usage(self, response: httpx.Response, token: str | None) -> None:
        app, pages = parse_usage_headers(response.headers)
        if app is not None:
            self._app_usage = app
        self._page_usage.update(pages)
        if token and len(pages) == 1:
            self._token_pages[_fingerprint(token)] = next(iter(pages))

    def _scopes(self, page_id: str | None, token: str | None) -> list[str]:
        scopes = [APP]
        if page_id:
            scopes.append(page_scope(page_id))
        if token:
            scopes.append(token_scope(_fingerprint(token)))
        return scopes

    async def _learn_waits(
        self, response: httpx.Response, error: RateLimited | None, scopes: Sequence[str]
    ) -> None:
        """Record the waits an answer gives: a page's regain time in its usage header (also
        on successful answers), and for a rate-limit error its wait on the app (code 4) or on
        the page and token of the call."""
        now = time.time()
        _, pages = parse_usage_headers(response.headers)
        for page, usage in pages.items():
            if usage.estimated_time_to_regain_access > 0:
                until = now + float(usage.estimated_time_to_regain_access) * 60.0
                await self.limits.block([page_scope(page)], until)
        if error is None:
            return
        until = now + max(1.0, error.retry_after)
        if error.code == 4:
            await self.limits.block([APP], until)
        else:
            await self.limits.block([s for s in scopes if s != APP] or [APP], until)

    # --- transport -----------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def _auth_params(self, token: str | None) -> dict[str, str]:
        if token is None:
            return {}
        params = {"access_token": token}
        if self._appsecret_proof and "|" not in token:
            params["appsecret_proof"] = hmac.new(
                self._app_secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256
            ).hexdigest()
        return params

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2.0**attempt))
        # "Equal jitter": at least half the delay, so retries spread without collapsing to zero.
        return delay / 2 + self._jitter() * delay / 2

    async def _request(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        params: Mapping[str, str | None] | None = None,
        idempotent: bool = True,
        page_id: str | None = None,
        root: bool = False,
    ) -> bytes:
        """One Graph call with throttling, retries and error mapping; returns the raw body.
        ``root``: the unversioned root (batch requests name versions per operation)."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        clean.update(self._auth_params(token))
        url = f"{self.base_url}/" if root else self._url(path)
        context = "POST / (batch)" if root else f"{method} /{self.version}/{path.lstrip('/')}"
        if page_id is None and token is not None:
            page_id = self._token_pages.get(_fingerprint(token))
        scopes = self._scopes(page_id, token)
        until = await self.limits.blocked_until(scopes)
        if until:
            # A known wait (learnt here or by another process): calling would only earn
            # another rate-limit answer and lengthen it.
            raise RateLimited(
                f"{context}: waiting out a rate limit", retry_after=until - time.time()
            )
        pause = self.throttle_delay(page_id)
        if pause > 0:
            _log.info("graph.throttle", path=context, seconds=round(pause, 3))
            await self._sleep(pause)
        attempt = 0
        while True:
            try:
                if method == "GET":
                    response = await self._http.request(method, url, params=clean)
                else:
                    response = await self._http.request(method, url, data=clean)
            except httpx.TransportError as exc:
                # A reply may have reached Meta before the connection broke: only retry
                # non-idempotent calls when the request provably never left.
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                retry = (idempotent or never_sent) and attempt < self.max_retries
                _log.warning(
                    "graph.transport_error",
                    path=context,
                    error=type(exc).__name__,
                    attempt=attempt,
                    retry=retry,
                )
                if retry:
                    await self._sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise PlatformUnavailable(
                    f"{context}: {type(exc).__name__}: {redact(str(exc))}"
                ) from None
            self._record_usage(response, token)
            _log.debug("graph.response", path=context, status=response.status_code)
            await self._learn_waits(response, None, scopes)
            if response.is_success:
                return response.content
            error = error_from_response(response, context=context)
            if isinstance(error, RateLimited):
                await self._learn_waits(response, error, scopes)
            if isinstance(error, PlatformUnavailable) and idempotent and attempt < self.max_retries:
                _log.warning(
                    "graph.retry", path=context, status=response.status_code, attempt=attempt
                )
                await self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            raise error

    async def _get(
        self,
        path: str,
        type_: type[T],
        *,
        token: str | None,
        params: Mapping[str, str | None] | None = None,
        page_id: str | None = None,
    ) -> T:
        body = await self._request("GET", path, token=token, params=params, page_id=page_id)
        return self._decode(body, type_, path)

    def _decode(self, body: bytes, type_: type[T], path: str) -> T:
        try:
            return msgspec.json.decode(body, type=type_)
        except msgspec.MsgspecError as exc:
            raise PlatformError(
                f"/{self.version}/{path.lstrip('/')}: unexpected response shape: {exc}"
            ) from None

    # --- OAuth ---------------------------------------------------------------------------

    def build_authorize_url(
        self,
        redirect_uri: str,
        state: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        dialog_base_url: str = DEFAULT_DIALOG_URL,
    ) -> str:
        """The login dialog URL to send the user's browser to."""
        query = urlencode(
            {
                "client_id": self.app_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": ",".join(scopes),
                "response_type": "code",
            }
        )
        return f"{dialog_base_url.rstrip('/')}/{self.version}/dialog/oauth?{query}"

    async def exchange_code(self, code: str, redirect_uri: str) -> UserToken:
        """Trade the dialog's ``code`` for a short-lived user token."""
        wire = await self._get(
            "oauth/access_token",
            _WireToken,
            token=None,
            params={
                "client_id": self.app_id,
                "client_secret": self._app_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        return UserToken(wire.access_token, wire.token_type, wire.expires_in)

    async def exchange_long_lived_user_token(self, token: str) -> UserToken:
        """Trade a short-lived user token for a long-lived one (about 60 days)."""
        wire = await self._get(
            "oauth/access_token",
            _WireToken,
            token=None,
            params={
                "grant_type": "fb_exchange_token",
                "client_id": self.app_id,
                "client_secret": self._app_secret,
                "fb_exchange_token": token,
            },
        )
        return UserToken(wire.access_token, wire.token_type, wire.expires_in)

    # --- pages and subscriptions ---------------------------------------------------------

    async def list_pages(self, user_token: str) -> list[PageAccount]:
        """Every page the user manages, following pagination."""
        pages: list[PageAccount] = []
        after: str | None = None
        while True:
            page = await self._get(
                "me/accounts",
                _Page[_WireAccount],
                token=user_token,
                params={"fields": PAGE_FIELDS, "limit": "100", "after": after},
            )
            for wire in page.data:
                ig = wire.instagram_business_account
                pages.append(
                    PageAccount(
                        id=wire.id,
                        name=wire.name,
                        access_token=wire.access_token,
                        tasks=tuple(wire.tasks),
                        instagram_business_account_id=ig.id if ig else None,
                    )
                )
            after = page.next_cursor()
            if after is None:
                return pages

    async def subscribe_page(
        self, page_id: str, page_token: str, fields: Iterable[str] = ("feed",)
    ) -> bool:
        """Install the app on the page so its webhooks fire (``subscribed_apps``)."""
        body = await self._request(
            "POST",
            f"{page_id}/subscribed_apps",
            token=page_token,
            params={"subscribed_fields": ",".join(fields)},
            page_id=page_id,
        )
        return self._decode(body, _Success, "subscribed_apps").success

    async def unsubscribe_page(self, page_id: str, page_token: str) -> bool:
        body = await self._request(
            "DELETE", f"{page_id}/subscribed_apps", token=page_token, page_id=page_id
        )
        return self._decode(body, _Success, "subscribed_apps").success

    async def get_subscribed_apps(self, page_id: str, page_token: str) -> list[SubscribedApp]:
        page = await self._get(
            f"{page_id}/subscribed_apps",
            _Page[_WireSubscribedApp],
            token=page_token,
            page_id=page_id,
        )
        return [SubscribedApp(a.id, a.name, tuple(a.subscribed_fields)) for a in page.data]

    async def subscribe_app_webhook(
        self,
        callback_url: str,
        verify_token: str,
        fields: Iterable[str] = ("feed",),
        object_type: str = "page",
    ) -> bool:
        """Register the app's webhook callback; Meta verifies it with a GET handshake first."""
        app_token = f"{self.app_id}|{self._app_secret}"
        body = await self._request(
            "POST",
            f"{self.app_id}/subscriptions",
            token=app_token,
            params={
                "object": object_type,
                "callback_url": callback_url,
                "fields": ",".join(fields),
                "verify_token": verify_token,
                "include_values": "true",
            },
        )
        return self._decode(body, _Success, "subscriptions").success

    # --- Facebook content ----------------------------------------------------------------

    async def get_comment(self, comment_id: str, token: str) -> Comment:
        wire = await self._get(
            comment_id, _WireComment, token=token, params={"fields": COMMENT_FIELDS}
        )
        return _to_comment(wire)

    async def feed_page(
        self,
        page_id: str,
        token: str,
        *,
        after: str | None = None,
        since: datetime | int | None = None,
        until: datetime | int | None = None,
        limit: int = 25,
    ) -> tuple[list[Post], str | None]:
        """One page of ``/{page-id}/feed``, newest first, and the cursor for the next one."""
        page = await self._get(
            f"{page_id}/feed",
            _Page[_WirePost],
            token=token,
            params={
                "fields": POST_FIELDS,
                "limit": str(limit),
                "after": after,
                "since": _unix(since),
                "until": _unix(until),
            },
            page_id=page_id,
        )
        return [_to_post(w) for w in page.data], page.next_cursor()

    async def iter_feed(
        self,
        page_id: str,
        token: str,
        since: datetime | int | None = None,
        until: datetime | int | None = None,
        *,
        page_size: int = 25,
    ) -> AsyncIterator[Post]:
        after: str | None = None
        while True:
            posts, after = await self.feed_page(
                page_id, token, after=after, since=since, until=until, limit=page_size
            )
            for post in posts:
                yield post
            if after is None:
                return

    async def comments_page(
        self,
        object_id: str,
        token: str,
        *,
        after: str | None = None,
        filter: str = "stream",
        order: str = "chronological",
        limit: int = 100,
        post_id: str | None = None,
    ) -> tuple[list[Comment], str | None]:
        """One page of ``/{object-id}/comments`` and the cursor to resume from (None: done).

        ``filter="stream"`` returns replies too (with ``parent_id``); ``"toplevel"`` only
        top-level comments. ``post_id`` defaults to ``object_id`` for page posts.
        """
        page = await self._get(
            f"{object_id}/comments",
            _Page[_WireComment],
            token=token,
            params={
                "fields": COMMENT_FIELDS,
                "filter": filter,
                "order": order,
                "limit": str(limit),
                "after": after,
            },
        )
        owner = post_id if post_id is not None else (object_id if "_" in object_id else None)
        return [_to_comment(w, owner) for w in page.data], page.next_cursor()

    async def iter_comments(
        self,
        object_id: str,
        token: str,
        filter: str = "stream",
        *,
        order: str = "chronological",
        page_size: int = 100,
        post_id: str | None = None,
    ) -> AsyncIterator[Comment]:
        after: str | None = None
        while True:
            comments, after = await self.comments_page(
                object_id,
                token,
                after=after,
                filter=filter,
                order=order,
                limit=page_size,
                post_id=post_id,
            )
            for comment in comments:
                yield comment
            if after is None:
                return

    async def hide_comment(self, comment_id: str, token: str, hidden: bool = True) -> bool:
        """Hide (or unhide) a Facebook comment; needs a page token with MODERATE."""
        body = await self._request(
            "POST",
            comment_id,
            token=token,
            params={"is_hidden": "true" if hidden else "false"},
        )
        return self._decode(body, _Success, comment_id).success

    async def hide_comments(
        self, comment_ids: Sequence[str], token: str, hidden: bool = True
    ) -> list[bool | PlatformError]:
        """Hide (or unhide) many Facebook comments through Graph's batch requests, up to 50
        operations per HTTP call: a backfill page's hides cost one round trip, not twenty.
        One result per id, in order: whether Meta confirmed, or that operation's own error.
        An error of the batch call itself (a refused token, a rate limit on the whole call)
        is raised as for ``hide_comment``. Setting ``is_hidden`` is idempotent, so the batch
        call is retried like a read."""
        results: list[bool | PlatformError] = []
        body = "is_hidden=true" if hidden else "is_hidden=false"
        for start in range(0, len(comment_ids), GRAPH_BATCH_LIMIT):
            chunk = comment_ids[start : start + GRAPH_BATCH_LIMIT]
            operations = [
                {"method": "POST", "relative_url": f"{self.version}/{cid}", "body": body}
                for cid in chunk
            ]
            raw = await self._request(
                "POST",
                "",
                token=token,
                params={
                    "batch": msgspec.json.encode(operations).decode(),
                    "include_headers": "true",
                },
                root=True,
            )
            answers = self._decode(raw, list[_BatchAnswer | None], "batch")
            if len(answers) != len(chunk):
                raise PlatformError(f"batch: {len(answers)} answers for {len(chunk)} operations")
            for cid, answer in zip(chunk, answers, strict=True):
                results.append(self._batch_result(cid, answer))
        return results

    def _batch_result(self, comment_id: str, answer: _BatchAnswer | None) -> bool | PlatformError:
        context = f"POST /{self.version}/{comment_id} (batch)"
        if answer is None:
            # Meta answers null for an operation that did not finish within the batch.
            return PlatformUnavailable(f"{context}: the operation timed out in the batch")
        content = answer.body.encode("utf-8") if answer.body else b""
        if 200 <= answer.code < 300:
            try:
                return msgspec.json.decode(content, type=_Success).success
            except msgspec.MsgspecError:
                return PlatformError(f"{context}: unexpected response shape")
        headers = {h.name.lower(): h.value for h in answer.headers or []}
        return error_from(answer.code, content, headers, context=context)

    async def delete_comment(self, comment_id: str, token: str) -> bool:
        body = await self._request("DELETE", comment_id, token=token)
        return self._decode(body, _Success, comment_id).success

    async def reply_to(self, object_id: str, token: str, message: str) -> str:
        """Comment on a post or reply to a comment as the page; returns the new comment id.

        Not retried once the request may have reached Meta (a retry could post twice).
        """
        body = await self._request(
            "POST",
            f"{object_id}/comments",
            token=token,
            params={"message": message},
            idempotent=False,
        )
        return self._decode(body, _Created, "comments").id

    # --- Instagram -----------------------------------------------------------------------

    async def ig_media_page(
        self, ig_user_id: str, token: str, *, after: str | None = None, limit: int = 25
    ) -> tuple[list[IgMedia], str | None]:
        page = await self._get(
            f"{ig_user_id}/media",
            _Page[_WireIgMedia],
            token=token,
            params={"fields": IG_MEDIA_FIELDS, "limit": str(limit), "after": after},
        )
        return [_to_ig_media(w) for w in page.data], page.next_cursor()

    async def iter_ig_media(
        self, ig_user_id: str, token: str, *, page_size: int = 25
    ) -> AsyncIterator[IgMedia]:
        after: str | None = None
        while True:
            media, after = await self.ig_media_page(ig_user_id, token, after=after, limit=page_size)
            for item in media:
                yield item
            if after is None:
                return

    async def get_ig_comment(self, comment_id: str, token: str) -> IgComment:
        """One Instagram comment with its ``hidden`` state (the moderation read)."""
        wire = await self._get(
            comment_id, _WireIgComment, token=token, params={"fields": IG_COMMENT_FIELDS}
        )
        return _to_ig_comment(wire, None)

    async def ig_comments_page(
        self, media_id: str, token: str, *, after: str | None = None, limit: int = 50
    ) -> tuple[list[IgComment], str | None]:
        page = await self._get(
            f"{media_id}/comments",
            _Page[_WireIgComment],
            token=token,
            params={"fields": IG_COMMENT_FIELDS, "limit": str(limit), "after": after},
        )
        return [_to_ig_comment(w, media_id) for w in page.data], page.next_cursor()

    async def iter_ig_comments(
        self, media_id: str, token: str, *, page_size: int = 50
    ) -> AsyncIterator[IgComment]:
        after: str | None = None
        while True:
            comments, after = await self.ig_comments_page(
                media_id, token, after=after, limit=page_size
            )
            for comment in comments:
                yield comment
            if after is None:
                return

    async def hide_ig_comment(self, comment_id: str, token: str, hidden: bool = True) -> bool:
        """Hide (or unhide) an Instagram comment: ``POST /{ig-comment-id}?hide=true``."""
        body = await self._request(
            "POST", comment_id, token=token, params={"hide": "true" if hidden else "false"}
        )
        return self._decode(body, _Success, comment_id).success
