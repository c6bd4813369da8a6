"""Admin API: a tenant's webhook endpoints, their deliveries, retries and replays; the event catalogue."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from service.events.endpoints import Webhooks, event_types
from service.events.models import (
    Delivery,
    DeliveryState,
    Endpoint,
    EndpointCreate,
    EndpointUpdate,
    EndpointWithSecret,
    EventTypeDescription,
    ReplayRequest,
    ReplayResult,
)
from service.http.admin.auth import Admin, AdminActor, AdminController
from service.http.common import Id, Injected

DeliveryId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]
OverlapMinutes = Annotated[
    int,
    QueryParameter(
        name="overlapMinutes",
        ge=0,
        le=7 * 24 * 60,
        description="How long deliveries are signed with the old secret too, so receivers can switch unhurried.",
    ),
]
StateQuery = Annotated[DeliveryState | None, QueryParameter(name="state", description="Only deliveries in this state.")]
BeforeQuery = Annotated[
    int | None, QueryParameter(name="before", ge=1, le=2**63 - 1, description="Older than this delivery id.")
]


class WebhookEventTypeController(AdminController):
    path = "/admin/v1/webhook-event-types"
    tags = ["Admin: webhooks"]

    @get("/", summary="The event catalogue: every type an endpoint can receive, and which are opt-in")
    async def list_webhook_event_types(self, admin: Admin) -> list[EventTypeDescription]:
        return event_types()


class WebhookEndpointController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/webhook-endpoints"
    tags = ["Admin: webhooks"]

    @post("/", summary="Add a webhook endpoint; the answer holds its signing secret, shown this once")
    async def create_webhook_endpoint(
        self, webhooks: Injected[Webhooks], admin: Admin, who: AdminActor, tenant_id: Id, data: JSONBody[EndpointCreate]
    ) -> EndpointWithSecret:
        admin.require_tenant(tenant_id, write=True)
        return await webhooks.create(who, tenant_id, data)

    @get("/", summary="List webhook endpoints; `failingSince` marks those whose deliveries gave up")
    async def list_webhook_endpoints(self, webhooks: Injected[Webhooks], admin: Admin, tenant_id: Id) -> list[Endpoint]:
        admin.require_tenant(tenant_id, write=False)
        return await webhooks.all(tenant_id)

    @get("/{endpoint_id:int}", summary="Get a webhook endpoint")
    async def get_webhook_endpoint(
        self, webhooks: Injected[Webhooks], admin: Admin, tenant_id: Id, endpoint_id: Id
    ) -> Endpoint:
        admin.require_tenant(tenant_id, write=False)
        return await webhooks.get(tenant_id, endpoint_id)

    @patch("/{endpoint_id:int}", summary="Change a webhook endpoint's URL, description or event types; enable, disable")
    async def update_webhook_endpoint(
        self,
        webhooks: Injected[Webhooks],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        endpoint_id: Id,
        data: JSONBody[EndpointUpdate],
    ) -> Endpoint:
        admin.require_tenant(tenant_id, write=True)
        return await webhooks.update(who, tenant_id, endpoint_id, data)

    @post(
        "/{endpoint_id:int}/rotate-secret",
        status_code=200,
        summary="Replace the signing secret; the old one signs too for overlapMinutes (default 1440)",
    )
    async def rotate_webhook_secret(
        self,
        webhooks: Injected[Webhooks],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        endpoint_id: Id,
        overlap_minutes: OverlapMinutes = 24 * 60,
    ) -> EndpointWithSecret:
        admin.require_tenant(tenant_id, write=True)
        return await webhooks.rotate_secret(who, tenant_id, endpoint_id, overlap_minutes)

    @delete("/{endpoint_id:int}", summary="Delete a webhook endpoint and its deliveries")
    async def delete_webhook_endpoint(
        self, webhooks: Injected[Webhooks], admin: Admin, who: AdminActor, tenant_id: Id, endpoint_id: Id
    ) -> None:
        admin.require_tenant(tenant_id, write=True)
        await webhooks.delete(who, tenant_id, endpoint_id)

    @get("/{endpoint_id:int}/deliveries", summary="An endpoint's deliveries, newest first: state, attempts, latency")
    async def list_webhook_deliveries(
        self,
        webhooks: Injected[Webhooks],
        admin: Admin,
        tenant_id: Id,
        endpoint_id: Id,
        only: StateQuery = None,
        before: BeforeQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[Delivery]:
        admin.require_tenant(tenant_id, write=False)
        return await webhooks.deliveries(tenant_id, endpoint_id, only, before, limit)

    @post(
        "/{endpoint_id:int}/deliveries/{delivery_id:int}/retry",
        status_code=200,
        summary="Send a delivery again now, with a fresh retry window (the same event id)",
    )
    async def retry_webhook_delivery(
        self,
        webhooks: Injected[Webhooks],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        endpoint_id: Id,
        delivery_id: DeliveryId,
    ) -> Delivery:
        admin.require_tenant(tenant_id, write=True)
        return await webhooks.retry(who, tenant_id, endpoint_id, delivery_id)

    @post(
        "/{endpoint_id:int}/replay",
        status_code=200,
        summary="Deliver again the stored events of the endpoint's types that occurred in [from, to)",
    )
    async def replay_webhook_events(
        self,
        webhooks: Injected[Webhooks],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        endpoint_id: Id,
        data: JSONBody[ReplayRequest],
    ) -> ReplayResult:
        admin.require_tenant(tenant_id, write=True)
        return await webhooks.replay(who, tenant_id, endpoint_id, data)
