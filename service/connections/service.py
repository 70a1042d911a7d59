"""Connecting pages through OAuth, keeping their tokens encrypted, pausing and forgetting them."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid

import structlog
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from service.audit.service import record
from service.auth.types import Principal
from service.connections import schemas
from service.connections.errors import NoPageToken
from service.connections.models import Connection, ConnectionStatus
from service.connections.oauth_state import STATE_TTL_SECONDS, OAuthState, sign_state
from service.connections.repository import ConnectionRepository
from service.crypto import Cipher
from service.db import UnitOfWork, utcnow
from service.errors import BadRequest, NotFound, ServiceUnavailable
from service.platforms.graph import DEFAULT_SCOPES
from service.settings import Settings
from service.structs import apply_changes, changes, to_schema
from service.tenancy.service import ClientService
from service.webhooks.events import ConnectionEventData, EventType
from service.webhooks.service import api_url, emit

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
    connection_event(uow, EventType.CONNECTION_NEEDS_REAUTH, connection)


def connection_event(uow: UnitOfWork, event_type: EventType, connection: Connection) -> None:
    """connection.connected, connection.needs_reauth or connection.revoked, to the tenant's
    webhook endpoints (service/webhooks), in the unit of work that made the change."""
    emit(
        uow,
        uow.tenant,
        event_type,
        ConnectionEventData(
            tenant_id=uow.tenant,
            client_id=connection.client_id,
            connection_id=connection.id,
            platform=connection.platform,
            external_id=connection.external_id,
            name=connection.name,
            status=connection.status,
            reason=connection.status_reason,
            occurred_at=utcnow(),
            url=api_url(uow.public_url, f"/v1/connections/{connection.id}"),
        ),
        client_id=connection.client_id,
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
