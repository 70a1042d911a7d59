"""Connecting pages through OAuth, keeping their tokens encrypted, pausing and forgetting them."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid

import structlog
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from service.audit.service import record
from service.auth.tenants import claimed_tenant
from service.auth.types import Principal
from service.connections import schemas
from service.connections.errors import NoPageToken
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.oauth_state import STATE_TTL_SECONDS, OAuthState, sign_state, verify_state
from service.connections.repository import ConnectionRepository
from service.crypto import Cipher
from service.db import Database, UnitOfWork, utcnow
from service.errors import BadRequest, NotFound, ServiceUnavailable
from service.platforms import errors as platform_errors
from service.platforms.graph import DEFAULT_SCOPES, GraphClient
from service.settings import Settings
from service.structs import apply_changes, changes, to_schema
from service.tenancy.service import ClientService

log = structlog.get_logger(__name__)

TOKEN_PURPOSE = "page_token"
CALLBACK_PATH = "/v1/connections/oauth/callback"


def callback_url(settings: Settings) -> str:
    return settings.public_url + CALLBACK_PATH


def webhook_url(settings: Settings) -> str:
    return settings.public_url + "/webhooks/meta"


def page_token(cipher: Cipher, connection: Connection) -> str:
    """The decrypted page token, for the one call that needs it. Never log or return it."""
    if connection.token_ciphertext is None:
        raise NoPageToken("This connection has no token; re-authorise it.")
    return cipher.decrypt_text(
        connection.token_ciphertext, tenant_id=connection.tenant_id, purpose=TOKEN_PURPOSE
    )


def store_token(cipher: Cipher, connection: Connection, token: str) -> None:
    connection.token_ciphertext = cipher.encrypt_text(
        token, tenant_id=connection.tenant_id, purpose=TOKEN_PURPOSE
    )


async def mark_needs_reauth(
    uow: UnitOfWork, connection: Connection, reason: str, actor: str
) -> None:
    """The platform refused the token (code 190): stop using it until a user reconnects."""
    if connection.status in {ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.REVOKED}:
        return
    connection.status = ConnectionStatus.NEEDS_REAUTH
    connection.status_reason = reason[:500]
    record(
        uow,
        uow.tenant,
        actor=actor,
        action="connection.needs_reauth",
        subject_type="connection",
        subject_id=connection.id,
        data={"reason": reason[:500]},
    )


class ConnectionService:
    def __init__(self, uow: UnitOfWork, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings
        self.connections = ConnectionRepository(uow.session)

    async def load(self, principal: Principal, connection_id: uuid.UUID) -> Connection:
        connection = await self.connections.get(principal.tenant_id, connection_id)
        if connection is None or (
            principal.client_id is not None and connection.client_id != principal.client_id
        ):
            raise NotFound(f"Connection {connection_id} not found.")
        return connection

    async def start_oauth(
        self, principal: Principal, data: schemas.OAuthStart
    ) -> schemas.OAuthStarted:
        await ClientService(self.uow).load(principal, data.client_id)
        if not self.settings.meta_app_id:
            raise ServiceUnavailable("The Meta app is not configured (META_APP_ID).")
        expires = int(time.time()) + STATE_TTL_SECONDS
        state = sign_state(
            self.settings.secret_key,
            OAuthState(
                tenant_id=principal.tenant_id,
                client_id=data.client_id,
                page_ids=data.page_ids,
                redirect_to=data.redirect_to,
                actor=principal.actor,
                expires=expires,
                nonce=secrets.token_urlsafe(12),
            ),
        )
        # RFC 6749 §4.1.1 authorization request, built by authlib; Meta wants the scopes
        # comma-separated, so they go in as one string.
        url = prepare_grant_uri(
            f"{self.settings.meta_dialog_url}/{self.settings.meta_graph_version}/dialog/oauth",
            client_id=self.settings.meta_app_id,
            response_type="code",
            redirect_uri=callback_url(self.settings),
            scope=",".join(DEFAULT_SCOPES),
            state=state,
        )
        return schemas.OAuthStarted(
            authorization_url=url, expires_at=dt.datetime.fromtimestamp(expires, dt.UTC)
        )

    async def get(self, principal: Principal, connection_id: uuid.UUID) -> schemas.Connection:
        return to_schema(await self.load(principal, connection_id), schemas.Connection)

    async def list(
        self, principal: Principal, *, client_id: uuid.UUID | None, cursor: str | None, limit: int
    ) -> schemas.ConnectionList:
        if principal.client_id is not None:
            if client_id is not None and client_id != principal.client_id:
                return schemas.ConnectionList(items=[], next_cursor=None)
            client_id = principal.client_id
        rows, next_cursor = await self.connections.list(
            principal.tenant_id, client_id=client_id, cursor=cursor, limit=limit
        )
        return schemas.ConnectionList(
            items=[to_schema(c, schemas.Connection) for c in rows], next_cursor=next_cursor
        )

    async def update(
        self, principal: Principal, connection_id: uuid.UUID, data: schemas.ConnectionUpdate
    ) -> schemas.Connection:
        connection = await self.load(principal, connection_id)
        values = changes(data)
        if "status" in values:
            wanted = ConnectionStatus(values.pop("status"))
            if wanted != connection.status:
                if connection.status in {ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.REVOKED}:
                    raise BadRequest(
                        f"The connection is {connection.status.value}: reconnect it through OAuth."
                    )
                paused = wanted is ConnectionStatus.PAUSED
                connection.status = wanted
                connection.status_reason = (
                    "paused by a user" if wanted is ConnectionStatus.PAUSED else None
                )
                record(
                    self.uow,
                    principal.tenant_id,
                    actor=principal.actor,
                    action="connection.paused" if paused else "connection.resumed",
                    subject_type="connection",
                    subject_id=connection.id,
                )
        apply_changes(connection, values)
        await self.uow.session.flush()
        return to_schema(connection, schemas.Connection)


async def complete_oauth(
    db: Database,
    settings: Settings,
    graph: GraphClient,
    cipher: Cipher,
    code: str,
    state_token: str,
) -> tuple[OAuthState, schemas.OAuthCompleted]:
    """The callback: code -> long-lived user token -> pages -> one connection per page, each with
    its page token encrypted, and the app subscribed to each page's feed webhook."""
    state = verify_state(settings.secret_key, state_token)
    # The state is HMAC-signed by us when the tenant's admin started the flow: a credential.
    tenant_id = claimed_tenant(state.tenant_id)
    try:
        short = await graph.exchange_code(code, callback_url(settings))
        long = await graph.exchange_long_lived_user_token(short.access_token)
        pages = await graph.list_pages(long.access_token)
    except platform_errors.PlatformError as exc:
        raise BadRequest(f"Meta refused the authorisation: {exc.message}") from None
    if state.page_ids is not None:
        wanted = set(state.page_ids)
        pages = [p for p in pages if p.id in wanted]
    if not pages:
        raise BadRequest("The authorising user manages none of the requested pages.")

    subscribed: dict[str, bool] = {}
    for page in pages:
        try:
            subscribed[page.id] = await graph.subscribe_page(page.id, page.access_token)
        except platform_errors.PlatformError as exc:
            log.warning("page_subscribe_failed", page_id=page.id, error=type(exc).__name__)
            subscribed[page.id] = False

    now = utcnow()
    result: list[Connection] = []
    async with db.unit_of_work(tenant_id) as uow:
        client = await ClientService(uow).clients.get(tenant_id, state.client_id)
        if client is None:
            raise BadRequest("The client this authorisation was started for no longer exists.")
        repo = ConnectionRepository(uow.session)
        for page in pages:
            targets: list[tuple[Platform, str, str, str | None]] = [
                (Platform.FACEBOOK, page.id, page.name, None)
            ]
            if page.instagram_business_account_id:
                targets.append(
                    (
                        Platform.INSTAGRAM,
                        page.instagram_business_account_id,
                        f"{page.name} (Instagram)",
                        page.id,
                    )
                )
            for platform, external_id, name, linked in targets:
                connection = await repo.by_external_id(tenant_id, platform, external_id)
                created = connection is None
                if connection is None:
                    connection = Connection(
                        tenant_id=tenant_id,
                        client_id=client.id,
                        platform=platform,
                        external_id=external_id,
                        country=client.country,
                        default_language=client.default_language,
                        tasks=[],
                    )
                    repo.add(connection)
                connection.name = name
                connection.linked_page_id = linked
                connection.tasks = list(page.tasks)
                connection.status = ConnectionStatus.ACTIVE
                connection.status_reason = (
                    None
                    if page.can_moderate
                    else ("the authorising user lacks the MODERATE task on this page")
                )
                if subscribed.get(page.id):
                    connection.subscribed_at = now
                store_token(cipher, connection, page.access_token)
                await uow.session.flush()
                record(
                    uow,
                    tenant_id,
                    actor=state.actor,
                    action="connection.connected" if created else "connection.reauthorised",
                    subject_type="connection",
                    subject_id=connection.id,
                    data={"platform": platform.value, "external_id": external_id},
                )
                result.append(connection)
        items = [to_schema(c, schemas.Connection) for c in result]
    return state, schemas.OAuthCompleted(connections=items)


async def disconnect(
    db: Database,
    settings: Settings,
    graph: GraphClient,
    cipher: Cipher,
    principal: Principal,
    connection_id: uuid.UUID,
) -> schemas.Connection:
    """Unsubscribe the app from the page (best effort: the token may already be dead) and forget
    the token. The row stays, status revoked, so its findings and audit trail keep their page;
    connecting the page again through OAuth revives it."""
    async with db.unit_of_work(principal.tenant_id) as uow:
        connection = await ConnectionService(uow, settings).load(principal, connection_id)
        token = page_token(cipher, connection) if connection.token_ciphertext else None
        platform, external_id = connection.platform, connection.external_id
    if token and platform is Platform.FACEBOOK:
        try:
            await graph.unsubscribe_page(external_id, token)
        except platform_errors.PlatformError as exc:
            log.info("page_unsubscribe_failed", error=type(exc).__name__)
    async with db.unit_of_work(principal.tenant_id) as uow:
        connection = await ConnectionService(uow, settings).load(principal, connection_id)
        connection.token_ciphertext = None
        connection.status = ConnectionStatus.REVOKED
        connection.status_reason = "disconnected by a user"
        connection.subscribed_at = None
        record(
            uow,
            principal.tenant_id,
            actor=principal.actor,
            action="connection.revoked",
            subject_type="connection",
            subject_id=connection.id,
            data={"platform": platform.value, "external_id": external_id},
        )
        await uow.session.flush()
        return to_schema(connection, schemas.Connection)


async def verify_connection(
    db: Database,
    settings: Settings,
    graph: GraphClient,
    cipher: Cipher,
    principal: Principal,
    connection_id: uuid.UUID,
) -> schemas.Connection:
    """Ask the platform whether the token still works and the app is still subscribed; a refused
    token (190) turns the connection needs_reauth, a restored one active again."""
    async with db.unit_of_work(principal.tenant_id) as uow:
        connection = await ConnectionService(uow, settings).load(principal, connection_id)
        if connection.status is ConnectionStatus.REVOKED or connection.token_ciphertext is None:
            raise BadRequest("The connection is revoked: connect the page again through OAuth.")
        token = page_token(cipher, connection)
        page_id = connection.linked_page_id or connection.external_id
    problem: str | None = None
    subscribed: bool | None = None
    try:
        apps = await graph.get_subscribed_apps(page_id, token)
        subscribed = any(app.id == settings.meta_app_id for app in apps)
    except platform_errors.TokenInvalid as exc:
        problem = f"the platform refused the token: {exc.message}"
    except platform_errors.PlatformError as exc:
        raise ServiceUnavailable(f"The platform did not answer the check: {exc.message}") from None
    async with db.unit_of_work(principal.tenant_id) as uow:
        connection = await ConnectionService(uow, settings).load(principal, connection_id)
        if problem is not None:
            await mark_needs_reauth(uow, connection, problem, principal.actor)
        elif subscribed is not None:
            connection.subscribed_at = connection.subscribed_at or utcnow() if subscribed else None
        await uow.session.flush()
        return to_schema(connection, schemas.Connection)
