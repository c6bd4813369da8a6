"""Application lifecycle for the admin API: the secret is shown once and stored as a digest."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import msgspec

from service import audit
from service.applications import repository as repo
from service.applications.models import Application, ApplicationCreate, ApplicationUpdate, ApplicationWithSecret
from service.applications.tickets import AppTickets
from service.audit import Actor
from service.errors import ErrorCode, NotFound
from service.platform.crypto import new_token, token_digest
from service.platform.db import Database
from service.tenants import repository as tenants_repo
from service.tenants.service import tenant_not_found
from service.tenants.transactions import tenant_transaction

SECRET_PREFIX = "ghs_"


def application_not_found() -> NotFound:
    return NotFound("Application not found.", code=ErrorCode.APPLICATION_NOT_FOUND)


def _new_client_id(tenant_id: int) -> str:
    return f"gh.{tenant_id}.{secrets.token_hex(8)}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Applications:
    db: Database
    tickets: AppTickets

    async def create_application(self, actor: Actor, tenant_id: int, data: ApplicationCreate) -> ApplicationWithSecret:
        secret = new_token(SECRET_PREFIX)
        behaviors = sorted({b.value for b in data.behaviors})
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await tenants_repo.tenant_exists(conn, tenant_id):
                raise tenant_not_found()
            row = await repo.insert(
                conn, tenant_id, _new_client_id(tenant_id), data.name, token_digest(secret), behaviors
            )
            await audit.record(
                conn, actor, tenant_id, "application.created", "application", row.id, {"behaviors": behaviors}
            )
        return ApplicationWithSecret(**msgspec.structs.asdict(row), client_secret=secret)

    async def list_applications(self, tenant_id: int) -> list[Application]:
        return await repo.list_for_tenant(self.db, tenant_id)

    async def get_application(self, tenant_id: int, application_id: int) -> Application:
        row = await repo.get(self.db, tenant_id, application_id)
        if row is None:
            raise application_not_found()
        return row

    async def update_application(
        self, actor: Actor, tenant_id: int, application_id: int, data: ApplicationUpdate
    ) -> Application:
        behaviors = sorted({b.value for b in data.behaviors}) if data.behaviors is not msgspec.UNSET else None
        name = data.name if data.name is not msgspec.UNSET else None
        is_enabled = data.is_enabled if data.is_enabled is not msgspec.UNSET else None
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.update(conn, tenant_id, application_id, name, behaviors, is_enabled)
            if row is None:
                raise application_not_found()
            await audit.record(
                conn,
                actor,
                tenant_id,
                "application.updated",
                "application",
                application_id,
                {
                    k: v
                    for k, v in (("name", name), ("behaviors", behaviors), ("isEnabled", is_enabled))
                    if v is not None
                },
            )
        await self.tickets.forget(application_id)
        return row

    async def rotate_secret(self, actor: Actor, tenant_id: int, application_id: int) -> ApplicationWithSecret:
        secret = new_token(SECRET_PREFIX)
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.set_secret(conn, tenant_id, application_id, token_digest(secret))
            if row is None:
                raise application_not_found()
            await audit.record(conn, actor, tenant_id, "application.secret_rotated", "application", application_id)
        await self.tickets.forget(application_id)
        return ApplicationWithSecret(**msgspec.structs.asdict(row), client_secret=secret)

    async def delete_application(self, actor: Actor, tenant_id: int, application_id: int) -> None:
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await repo.delete(conn, tenant_id, application_id):
                raise application_not_found()
            await audit.record(conn, actor, tenant_id, "application.deleted", "application", application_id)
        await self.tickets.forget(application_id)
