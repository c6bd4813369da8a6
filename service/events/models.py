"""Shapes of webhook endpoints and deliveries, as the admin API reads and answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, description="https:// (http:// only where allowed)")]
Moment = Annotated[datetime, msgspec.Meta(tz=True, description="With its UTC offset, e.g. 2026-05-01T12:00:00Z")]
Description = Annotated[str, msgspec.Meta(max_length=200)]
EventTypes = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=100)]],
    msgspec.Meta(
        max_length=50,
        description="Event types to receive (GET /admin/v1/webhook-event-types); left out: every type that is "
        "not opt-in.",
    ),
]


class EndpointCreate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    url: Url
    description: Description = ""
    event_types: EventTypes | None = None
    is_enabled: bool = True


class EndpointUpdate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    url: Url | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    event_types: EventTypes | msgspec.UnsetType = msgspec.UNSET
    is_enabled: bool | msgspec.UnsetType = msgspec.UNSET


class Endpoint(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    tenant_id: int
    url: str
    description: str
    event_types: list[str]
    is_enabled: bool
    failing_since: datetime | None  # a delivery gave up after its retry window; cleared by the next success
    previous_secret_until: datetime | None  # the secret before the last rotation signs too until then
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(Endpoint, kw_only=True):
    secret: str  # whsec_...: returned once, at creation and at rotation


DeliveryState = Literal["pending", "delivered", "failed"]


class Delivery(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    event_id: str
    event_type: str
    occurred_at: datetime
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None  # pending only
    last_attempt_at: datetime | None
    last_status: int | None  # the receiver's HTTP status
    last_error: str | None  # why the last attempt failed, when it got no 2xx
    response_prefix: str | None  # the first bytes of the receiver's answer
    latency_ms: int | None  # of the last attempt
    created_at: datetime
    delivered_at: datetime | None


class ReplayRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Deliver again every stored event of the endpoint's types that occurred in [from, to)."""

    start: Moment = msgspec.field(name="from")
    end: Moment = msgspec.field(name="to")


class ReplayResult(msgspec.Struct, rename="camel", kw_only=True):
    deliveries: int  # new deliveries, queued after the endpoint's pending ones


class EventTypeDescription(msgspec.Struct, rename="camel", kw_only=True):
    name: str
    version: int
    description: str
    opt_in: bool


def public_event_id(event_id: int) -> str:
    """An event's id as receivers see it (`webhook-id` and the body's `id`): the same on every attempt and replay."""
    return f"evt_{event_id}"
