"""Outbound webhooks: endpoints, deliveries and the event catalogue (what Wallguard sends;
Meta's inbound callback is service/api/inbox.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from service.api.auth import ADMIN, READ
from service.api.deps import BEARER, Caller, Ciphers, Cursor, Db, PageSize, Sender, Uow
from service.api.problems import problem_responses
from service.inputs import instant
from service.pagination import DEFAULT_LIMIT
from service.webhooks import schemas
from service.webhooks.events import EventType
from service.webhooks.models import DeliveryStatus
from service.webhooks.service import (
    WebhookDeliveryService,
    WebhookEndpointService,
    event_types,
    send_test,
)

Since = Annotated[
    dt.datetime | None, QueryParameter(description="Created at or after this time (ISO 8601)")
]


def _endpoints(uow: Uow, cipher: Ciphers, sender: Sender) -> WebhookEndpointService:
    return WebhookEndpointService(uow, cipher, sender.policy, config=sender.config)


class WebhookEndpointController(Controller):
    path = "/v1/webhook-endpoints"
    tags = ["Webhooks"]
    security = BEARER

    @post(
        operation_id="createWebhookEndpoint",
        guards=[ADMIN],
        summary="Register a webhook endpoint",
        description="Returns the signing `secret` (`whsec_…`) once; it is stored encrypted and "
        "never shown again (rotate it to get a new one). An empty `event_types` means every "
        "event. With `client_id`, only events of that client's pages are sent. The URL must be "
        "`https` in production and may not resolve to a loopback, private, link-local, "
        "multicast or metadata address.",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def create_webhook_endpoint(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        data: JSONBody[schemas.WebhookEndpointCreate],
    ) -> schemas.WebhookEndpointWithSecret:
        return await _endpoints(uow, cipher, sender).create(principal, data)

    @get(
        operation_id="listWebhookEndpoints",
        guards=[READ],
        summary="List webhook endpoints, newest first",
        responses=problem_responses(400, 401, 403),
    )
    async def list_webhook_endpoints(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> schemas.WebhookEndpointList:
        return await _endpoints(uow, cipher, sender).list(principal, cursor=cursor, limit=limit)

    @get(
        "/{endpoint_id:uuid}",
        operation_id="getWebhookEndpoint",
        guards=[READ],
        summary="Get a webhook endpoint",
        responses=problem_responses(401, 403, 404),
    )
    async def get_webhook_endpoint(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        endpoint_id: FromPath[uuid.UUID],
    ) -> schemas.WebhookEndpoint:
        return await _endpoints(uow, cipher, sender).get(principal, endpoint_id)

    @patch(
        "/{endpoint_id:uuid}",
        operation_id="updateWebhookEndpoint",
        guards=[ADMIN],
        summary="Update a webhook endpoint (url, event types, description, enabled)",
        responses=problem_responses(400, 401, 403, 404, 415, 422),
    )
    async def update_webhook_endpoint(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        endpoint_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.WebhookEndpointUpdate],
    ) -> schemas.WebhookEndpoint:
        return await _endpoints(uow, cipher, sender).update(principal, endpoint_id, data)

    @delete(
        "/{endpoint_id:uuid}",
        operation_id="deleteWebhookEndpoint",
        guards=[ADMIN],
        summary="Delete a webhook endpoint and its delivery history",
        responses=problem_responses(401, 403, 404),
    )
    async def delete_webhook_endpoint(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        endpoint_id: FromPath[uuid.UUID],
    ) -> None:
        await _endpoints(uow, cipher, sender).delete(principal, endpoint_id)

    @post(
        "/{endpoint_id:uuid}/rotate-secret",
        operation_id="rotateWebhookEndpointSecret",
        guards=[ADMIN],
        status_code=HTTP_200_OK,
        summary="Rotate the signing secret",
        description="Returns the new secret once. For 24 hours both the old and the new "
        "signature are sent in `webhook-signature`, space-separated, so receivers can switch "
        "over without losing an event.",
        responses=problem_responses(401, 403, 404),
    )
    async def rotate_webhook_endpoint_secret(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        endpoint_id: FromPath[uuid.UUID],
    ) -> schemas.WebhookEndpointWithSecret:
        return await _endpoints(uow, cipher, sender).rotate_secret(principal, endpoint_id)

    @post(
        "/{endpoint_id:uuid}/test",
        operation_id="testWebhookEndpoint",
        guards=[ADMIN],
        status_code=HTTP_200_OK,
        summary="Send a webhook.test event now",
        description="Sends at once and returns the delivery with its first attempt; a failed "
        "test is retried on the usual schedule.",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def test_webhook_endpoint(
        self,
        db: Db,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        endpoint_id: FromPath[uuid.UUID],
    ) -> schemas.WebhookDeliveryDetail:
        return await send_test(db, cipher, sender, principal, endpoint_id)

    @post(
        "/{endpoint_id:uuid}/replay",
        operation_id="replayWebhookEndpoint",
        guards=[ADMIN],
        status_code=HTTP_202_ACCEPTED,
        summary="Re-send every failed delivery since a time",
        description="Each is sent again with its own `webhook-id`, from the start of the retry "
        "schedule.",
        responses=problem_responses(400, 401, 403, 404, 409, 415, 422),
    )
    async def replay_webhook_endpoint(
        self,
        uow: Uow,
        principal: Caller,
        cipher: Ciphers,
        sender: Sender,
        endpoint_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ReplayRequest],
    ) -> schemas.ReplayAccepted:
        return await _endpoints(uow, cipher, sender).replay(principal, endpoint_id, data.since)


class WebhookDeliveryController(Controller):
    path = "/v1/webhook-deliveries"
    tags = ["Webhooks"]
    security = BEARER

    @get(
        operation_id="listWebhookDeliveries",
        guards=[READ],
        summary="List webhook deliveries, newest first",
        responses=problem_responses(400, 401, 403),
    )
    async def list_webhook_deliveries(
        self,
        uow: Uow,
        principal: Caller,
        endpoint_id: FromQuery[uuid.UUID | None] = None,
        event_type: FromQuery[EventType | None] = None,
        status: FromQuery[DeliveryStatus | None] = None,
        since: Since = None,
        cursor: Cursor = None,
        limit: PageSize = DEFAULT_LIMIT,
    ) -> schemas.WebhookDeliveryList:
        return await WebhookDeliveryService(uow).list(
            principal,
            endpoint_id=endpoint_id,
            event_type=event_type,
            status=status,
            since=instant(since, "query.since"),
            cursor=cursor,
            limit=limit,
        )

    @get(
        "/{delivery_id:uuid}",
        operation_id="getWebhookDelivery",
        guards=[READ],
        summary="Get a delivery with every attempt",
        responses=problem_responses(401, 403, 404),
    )
    async def get_webhook_delivery(
        self, uow: Uow, principal: Caller, delivery_id: FromPath[uuid.UUID]
    ) -> schemas.WebhookDeliveryDetail:
        return await WebhookDeliveryService(uow).get(principal, delivery_id)

    @post(
        "/{delivery_id:uuid}/replay",
        operation_id="replayWebhookDelivery",
        guards=[ADMIN],
        status_code=HTTP_202_ACCEPTED,
        summary="Send a delivery again (same webhook-id)",
        responses=problem_responses(401, 403, 404, 409),
    )
    async def replay_webhook_delivery(
        self, uow: Uow, principal: Caller, delivery_id: FromPath[uuid.UUID]
    ) -> schemas.WebhookDelivery:
        return await WebhookDeliveryService(uow).replay(principal, delivery_id)


class WebhookEventTypeController(Controller):
    path = "/v1/webhook-event-types"
    tags = ["Webhooks"]
    security = BEARER

    @get(
        operation_id="listWebhookEventTypes",
        guards=[READ],
        summary="The events Wallguard sends, each with the JSON Schema of its body",
        responses=problem_responses(401, 403),
    )
    async def list_webhook_event_types(self) -> schemas.WebhookEventTypeList:
        return event_types()
