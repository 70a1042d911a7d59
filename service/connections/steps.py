"""Connection steps: the operations that call the platform between units of work of their own.

A step takes the ``Database`` rather than a unit of work because a Graph call must not run inside
a transaction (service/db.py says why): it reads what it needs in one short unit of work, calls
the platform with no transaction open, then records the outcome in another. The API calls these
directly (service/api/connections.py); everything else about connections is ``ConnectionService``,
which takes the request's unit of work and never commits.
"""

from __future__ import annotations

import datetime as dt
import uuid

import structlog

from service.audit.service import record
from service.auth.tenants import claimed_tenant
from service.auth.types import Principal
from service.connections import schemas
from service.connections.models import Connection, ConnectionStatus, Platform
from service.connections.oauth_state import OAuthState, verify_state
from service.connections.repository import ConnectionRepository, OAuthStateRepository
from service.connections.service import (
    ConnectionService,
    callback_url,
    connection_event,
    mark_needs_reauth,
    page_token,
    store_token,
)
from service.crypto import Cipher
from service.db import Database, utcnow
from service.errors import BadRequest, ServiceUnavailable
from service.platforms import errors as platform_errors
from service.platforms.graph import GraphClient
from service.settings import Settings
from service.structs import to_schema
from service.tenancy.service import ClientService
from service.webhooks.events import EventType

log = structlog.get_logger(__name__)


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
    # Claimed (and committed) before the code is exchanged: of two callbacks racing with the same
    # state, only one gets past here. A failed exchange spends the state too; the user starts
    # again, as after an expiry.
    async with db.unit_of_work(tenant_id) as uow:
        claimed = await OAuthStateRepository(uow.session).claim(
            tenant_id, state.nonce, dt.datetime.fromtimestamp(state.expires, dt.UTC)
        )
    if not claimed:
        raise BadRequest("This OAuth state was used already; start the connection again.")
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
                connection_event(uow, EventType.CONNECTION_CONNECTED, connection)
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
        connection_event(uow, EventType.CONNECTION_REVOKED, connection)
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
