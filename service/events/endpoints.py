"""A tenant's webhook endpoints for the admin API: their URLs, event types and secrets, their deliveries, retries
and replays. A secret is shown once (at creation and at rotation) and kept sealed at rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from service import audit
from service.audit import Actor
from service.errors import ErrorCode, FieldError, InvalidInput, NotFound
from service.events import catalogue
from service.events import endpoints_repository as repo
from service.events.models import (
    Delivery,
    Endpoint,
    EndpointCreate,
    EndpointUpdate,
    EndpointWithSecret,
    EventTypeDescription,
    ReplayRequest,
    ReplayResult,
)
from service.events.signing import new_secret, sealing_context
from service.events.ssrf import AddressPolicy
from service.platform.crypto import SecretBox
from service.platform.db import Database, returned_row
from service.tenants import repository as tenants_repo
from service.tenants.service import tenant_not_found
from service.tenants.transactions import tenant_transaction


def endpoint_not_found() -> NotFound:
    return NotFound("Webhook endpoint not found.", code=ErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND)


def event_types() -> list[EventTypeDescription]:
    return [
        EventTypeDescription(name=e.name, version=e.version, description=e.description, opt_in=e.opt_in)
        for e in catalogue.CATALOGUE
    ]


def _checked_types(names: list[str] | None) -> list[str]:
    if names is None:
        return list(catalogue.DEFAULT_TYPES)
    unknown = sorted(set(names) - set(catalogue.BY_NAME))
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}.",
            code=ErrorCode.UNKNOWN_EVENT_TYPE,
            field_errors=(FieldError("eventTypes", "names an event type the catalogue does not have"),),
        )
    return sorted(set(names))


@dataclass(frozen=True, kw_only=True, slots=True)
class Webhooks:
    db: Database
    box: SecretBox
    policy: AddressPolicy

    def _checked_url(self, url: str) -> str:
        problem = self.policy.url_problem(url)
        if problem is not None:
            raise InvalidInput(
                f"The webhook URL {problem}.",
                code=ErrorCode.INVALID_WEBHOOK_URL,
                field_errors=(FieldError("url", problem),),
            )
        return url

    async def create(self, actor: Actor, tenant_id: int, data: EndpointCreate) -> EndpointWithSecret:
        fields = {
            "url": self._checked_url(data.url),
            "description": data.description,
            "event_types": _checked_types(data.event_types),
            "is_enabled": data.is_enabled,
        }
        secret = new_secret()
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await tenants_repo.tenant_exists(conn, tenant_id):
                raise tenant_not_found()
            endpoint_id = await repo.next_endpoint_id(conn)
            sealed = self.box.seal(secret, sealing_context(tenant_id, endpoint_id))
            row = returned_row(await repo.insert_endpoint(conn, endpoint_id, tenant_id, fields, sealed))
            details = {"eventTypes": row.event_types, "isEnabled": row.is_enabled}
            await audit.record(conn, actor, tenant_id, "webhook_endpoint.created", "webhook_endpoint", row.id, details)
        return EndpointWithSecret(**msgspec.structs.asdict(row), secret=secret)

    async def all(self, tenant_id: int) -> list[Endpoint]:
        return await repo.list_endpoints(self.db, tenant_id)

    async def get(self, tenant_id: int, endpoint_id: int) -> Endpoint:
        row = await repo.get_endpoint(self.db, tenant_id, endpoint_id)
        if row is None:
            raise endpoint_not_found()
        return row

    async def update(self, actor: Actor, tenant_id: int, endpoint_id: int, data: EndpointUpdate) -> Endpoint:
        given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        fields: dict[str, Any] = {**given}
        if "url" in given:
            fields["url"] = self._checked_url(given["url"])
        if "event_types" in given:
            fields["event_types"] = _checked_types(given["event_types"])
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.update_endpoint(conn, tenant_id, endpoint_id, fields)
            if row is None:
                raise endpoint_not_found()
            details = {"changed": sorted(catalogue.camel(name) for name in given)}
            await audit.record(conn, actor, tenant_id, "webhook_endpoint.updated", "webhook_endpoint", row.id, details)
        return row

    async def rotate_secret(
        self, actor: Actor, tenant_id: int, endpoint_id: int, overlap_minutes: int
    ) -> EndpointWithSecret:
        secret = new_secret()
        sealed = self.box.seal(secret, sealing_context(tenant_id, endpoint_id))
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.rotate_secret(conn, tenant_id, endpoint_id, sealed, overlap_minutes)
            if row is None:
                raise endpoint_not_found()
            details = {"overlapMinutes": overlap_minutes}
            await audit.record(
                conn, actor, tenant_id, "webhook_endpoint.secret_rotated", "webhook_endpoint", row.id, details
            )
        return EndpointWithSecret(**msgspec.structs.asdict(row), secret=secret)

    async def delete(self, actor: Actor, tenant_id: int, endpoint_id: int) -> None:
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await repo.delete_endpoint(conn, tenant_id, endpoint_id):
                raise endpoint_not_found()
            await audit.record(conn, actor, tenant_id, "webhook_endpoint.deleted", "webhook_endpoint", endpoint_id)

    async def deliveries(
        self, tenant_id: int, endpoint_id: int, state: str | None, before_id: int | None, limit: int
    ) -> list[Delivery]:
        await self.get(tenant_id, endpoint_id)
        return await repo.list_deliveries(self.db, tenant_id, endpoint_id, state, before_id, limit)

    async def retry(self, actor: Actor, tenant_id: int, endpoint_id: int, delivery_id: int) -> Delivery:
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.retry_delivery(conn, tenant_id, endpoint_id, delivery_id)
            if row is None:
                raise NotFound("Webhook delivery not found.", code=ErrorCode.WEBHOOK_DELIVERY_NOT_FOUND)
            await audit.record(
                conn,
                actor,
                tenant_id,
                "webhook_delivery.retried",
                "webhook_endpoint",
                endpoint_id,
                {"deliveryId": delivery_id},
            )
        return row

    async def replay(self, actor: Actor, tenant_id: int, endpoint_id: int, data: ReplayRequest) -> ReplayResult:
        if data.start >= data.end:
            raise InvalidInput(
                "`to` must be later than `from`.", field_errors=(FieldError("to", "is not later than from"),)
            )
        async with tenant_transaction(self.db, tenant_id) as conn:
            if await repo.get_endpoint(conn, tenant_id, endpoint_id) is None:
                raise endpoint_not_found()
            count = await repo.replay(conn, tenant_id, endpoint_id, data.start, data.end)
            details = {"from": data.start.isoformat(), "to": data.end.isoformat(), "deliveries": count}
            await audit.record(
                conn, actor, tenant_id, "webhook_endpoint.replayed", "webhook_endpoint", endpoint_id, details
            )
        return ReplayResult(deliveries=count)
