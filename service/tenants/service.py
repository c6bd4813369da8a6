"""Tenant lifecycle: a tenant is born with a default customer set and a default site."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
import msgspec

from service import audit
from service.applications.recent import RecentAnswers
from service.applications.tickets import AppPrincipal, AppTickets
from service.audit import Actor
from service.errors import Conflict, ErrorCode, InvalidInput, NotFound
from service.platform.config import PlatformCaps
from service.platform.db import Database, returned_row
from service.tenants import repository as repo
from service.tenants.models import (
    CustomerSet,
    CustomerSetCreate,
    CustomerSetUpdate,
    Site,
    SiteCreate,
    SiteScope,
    SiteUpdate,
    Tenant,
)
from service.tenants.scope import CustomerScope
from service.tenants.settings import (
    TenantSettings,
    default_settings,
    settings_from_row,
    settings_to_row,
    validate_settings,
)
from service.tenants.transactions import tenant_transaction

DEFAULT_CODE = "default"


def site_not_found() -> NotFound:
    return NotFound("Site not found.", code=ErrorCode.SITE_NOT_FOUND)


def tenant_not_found() -> NotFound:
    # One message for "does not exist" and "not yours": callers learn nothing about other tenants.
    return NotFound("Tenant not found.", code=ErrorCode.TENANT_NOT_FOUND)


@dataclass(frozen=True, kw_only=True, slots=True)
class Tenants:
    """Tenants, their sites and customer sets, and their settings.

    Every customer call reads its site's scope (customer set and the tenant's settings); each process trusts what it
    read for a second (`RecentAnswers`), as it does an application's state: a change made through a worker applies
    there at once, in the others within that second.
    """

    db: Database
    caps: PlatformCaps
    app_tickets: AppTickets
    _scopes: RecentAnswers[tuple[int, int | None], tuple[SiteScope, TenantSettings]] = field(
        default_factory=RecentAnswers, init=False
    )
    # Sites found by `has_site` (Kibo's SDKs send x-vol-site on every call): trusted for the same second.
    _sites: RecentAnswers[tuple[int, int], bool] = field(default_factory=RecentAnswers, init=False)

    async def create_tenant(self, actor: Actor, name: str) -> Tenant:
        async with self.db.acquire() as conn, conn.transaction():
            tenant_id = await repo.insert_tenant(conn, name, settings_to_row(default_settings(self.caps)))
            customer_set = await repo.insert_customer_set(conn, tenant_id, DEFAULT_CODE, "Default customer set")
            await repo.insert_site(conn, tenant_id, DEFAULT_CODE, "Default site", customer_set.id, True)
            await audit.record(conn, actor, tenant_id, "tenant.created", "tenant", tenant_id, {"name": name})
            return returned_row(await repo.get_tenant(conn, tenant_id))

    async def any_exists(self) -> bool:
        return await repo.any_tenant_exists(self.db)

    async def get_tenant(self, tenant_id: int) -> Tenant:
        row = await repo.get_tenant(self.db, tenant_id)
        if row is None:
            raise tenant_not_found()
        return row

    async def list_tenants(self, only_id: int | None, offset: int, limit: int) -> tuple[list[Tenant], int]:
        rows, total = await repo.list_tenants(self.db, only_id, offset, limit)
        return rows, total

    async def rename_tenant(self, actor: Actor, tenant_id: int, name: str) -> Tenant:
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await repo.rename_tenant(conn, tenant_id, name):
                raise tenant_not_found()
            await audit.record(conn, actor, tenant_id, "tenant.renamed", "tenant", tenant_id, {"name": name})
            return returned_row(await repo.get_tenant(conn, tenant_id))

    async def delete_tenant(self, actor: Actor, tenant_id: int) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            application_ids = await repo.application_ids(conn, tenant_id)
            if not await repo.delete_tenant(conn, tenant_id):
                raise tenant_not_found()
            # The tenant's own audit rows go with it; the platform keeps the fact that it was deleted.
            await audit.record(conn, actor, None, "tenant.deleted", "tenant", tenant_id)
        # Its applications' cached state goes too, so their tokens stop working now, not at cache expiry.
        await self.app_tickets.forget(*application_ids)
        self._forget_scopes(tenant_id)

    async def customer_scope(self, app: AppPrincipal, site_id: int | None) -> CustomerScope:
        """Where an application's call works: the site it names (checked to be the tenant's), else the default."""
        key = (app.tenant_id, site_id)
        known = self._scopes.get(key)
        if known is None:
            row = await repo.get_scope(self.db, app.tenant_id, site_id)
            if row is None:
                raise site_not_found()
            known = (row, settings_from_row(row.settings))
            self._scopes.put(key, known)
        row, settings = known
        return CustomerScope(app, app.tenant_id, row.site_id, row.customer_set_id, row.customer_set_code, settings)

    def _forget_scopes(self, tenant_id: int) -> None:
        """After a change to the tenant's settings or sites has committed: this process reads them again."""
        self._scopes.drop(lambda key, _: key[0] == tenant_id)
        self._sites.drop(lambda key, _: key[0] == tenant_id)

    async def has_site(self, tenant_id: int, site_id: int) -> bool:
        """Whether the site is the tenant's. Only a site found is remembered: one created in another process is
        known at once, one deleted there within the second, as scopes are."""
        key = (tenant_id, site_id)
        if self._sites.get(key):
            return True
        found = await repo.get_site(self.db, tenant_id, site_id) is not None
        if found:
            self._sites.put(key, True)
        return found

    async def get_settings(self, tenant_id: int) -> TenantSettings:
        raw = await repo.get_settings(self.db, tenant_id)
        if raw is None:
            raise tenant_not_found()
        return settings_from_row(raw)

    async def put_settings(self, actor: Actor, tenant_id: int, settings: TenantSettings) -> TenantSettings:
        validate_settings(settings, self.caps)
        row = settings_to_row(settings)
        async with tenant_transaction(self.db, tenant_id) as conn:
            taken = await repo.host_names_of_others(conn, tenant_id, settings.host_names) if settings.host_names else []
            if taken:
                raise Conflict(f"Another tenant serves the host name '{taken[0]}'.", code=ErrorCode.HOST_NAME_TAKEN)
            if not await repo.put_settings(conn, tenant_id, row):
                raise tenant_not_found()
            await audit.record(conn, actor, tenant_id, "tenant.settings_changed", "tenant", tenant_id, row)
        self._forget_scopes(tenant_id)
        return settings

    async def create_customer_set(self, actor: Actor, tenant_id: int, data: CustomerSetCreate) -> CustomerSet:
        async with self.db.acquire() as conn, conn.transaction():
            if not await repo.lock_tenant(conn, tenant_id):
                raise tenant_not_found()
            try:
                row = await repo.insert_customer_set(conn, tenant_id, data.code, data.name)
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    f"A customer set with code '{data.code}' exists.", code=ErrorCode.CUSTOMER_SET_EXISTS
                ) from None
            await audit.record(conn, actor, tenant_id, "customer_set.created", "customer_set", data.code)
            return row

    async def list_customer_sets(self, tenant_id: int) -> list[CustomerSet]:
        await self.get_tenant(tenant_id)
        return await repo.list_customer_sets(self.db, tenant_id)

    async def get_customer_set(self, tenant_id: int, code: str) -> CustomerSet:
        row = await repo.get_customer_set_by_code(self.db, tenant_id, code)
        if row is None:
            raise NotFound("Customer set not found.", code=ErrorCode.CUSTOMER_SET_NOT_FOUND)
        return row

    async def update_customer_set(
        self, actor: Actor, tenant_id: int, code: str, data: CustomerSetUpdate
    ) -> CustomerSet:
        async with tenant_transaction(self.db, tenant_id) as conn:
            row = await repo.rename_customer_set(conn, tenant_id, code, data.name)
            if row is None:
                raise NotFound("Customer set not found.", code=ErrorCode.CUSTOMER_SET_NOT_FOUND)
            await audit.record(
                conn, actor, tenant_id, "customer_set.renamed", "customer_set", code, {"name": data.name}
            )
            return row

    async def delete_customer_set(self, actor: Actor, tenant_id: int, code: str) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            if not await repo.lock_tenant(conn, tenant_id):
                raise tenant_not_found()
            if await repo.customer_set_in_use(conn, tenant_id, code):
                raise Conflict("Sites still use this customer set.", code=ErrorCode.CUSTOMER_SET_IN_USE)
            try:
                deleted = await repo.delete_customer_set(conn, tenant_id, code)
            except asyncpg.ForeignKeyViolationError:
                raise Conflict(
                    "Customer accounts still belong to this customer set.", code=ErrorCode.CUSTOMER_SET_IN_USE
                ) from None
            if not deleted:
                raise NotFound("Customer set not found.", code=ErrorCode.CUSTOMER_SET_NOT_FOUND)
            await audit.record(conn, actor, tenant_id, "customer_set.deleted", "customer_set", code)

    async def create_site(self, actor: Actor, tenant_id: int, data: SiteCreate) -> Site:
        async with self.db.acquire() as conn, conn.transaction():
            if not await repo.lock_tenant(conn, tenant_id):
                raise tenant_not_found()
            customer_set = await repo.get_customer_set_by_code(conn, tenant_id, data.customer_set_code)
            if customer_set is None:
                raise InvalidInput(
                    f"There is no customer set '{data.customer_set_code}'.", code=ErrorCode.CUSTOMER_SET_NOT_FOUND
                )
            try:
                site_id = await repo.insert_site(conn, tenant_id, data.code, data.name, customer_set.id, False)
            except asyncpg.UniqueViolationError:
                raise Conflict(f"A site with code '{data.code}' exists.", code=ErrorCode.SITE_EXISTS) from None
            if data.is_default:
                await repo.make_default_site(conn, tenant_id, site_id)
            await audit.record(conn, actor, tenant_id, "site.created", "site", site_id, {"code": data.code})
            site = returned_row(await repo.get_site(conn, tenant_id, site_id))
        self._forget_scopes(tenant_id)
        return site

    async def list_sites(self, tenant_id: int) -> list[Site]:
        await self.get_tenant(tenant_id)
        return await repo.list_sites(self.db, tenant_id)

    async def get_site(self, tenant_id: int, site_id: int) -> Site:
        row = await repo.get_site(self.db, tenant_id, site_id)
        if row is None:
            raise site_not_found()
        return row

    async def update_site(self, actor: Actor, tenant_id: int, site_id: int, data: SiteUpdate) -> Site:
        async with self.db.acquire() as conn, conn.transaction():
            if not await repo.lock_tenant(conn, tenant_id) or await repo.get_site(conn, tenant_id, site_id) is None:
                raise site_not_found()
            if data.is_default is False:
                raise InvalidInput(
                    "A tenant always has a default site: make another site the default instead.",
                    code=ErrorCode.DEFAULT_SITE_REQUIRED,
                )
            if data.name is not msgspec.UNSET:
                await repo.rename_site(conn, tenant_id, site_id, data.name)
            if data.is_default is True:
                await repo.make_default_site(conn, tenant_id, site_id)
            await audit.record(conn, actor, tenant_id, "site.updated", "site", site_id, msgspec.to_builtins(data))
            site = returned_row(await repo.get_site(conn, tenant_id, site_id))
        self._forget_scopes(tenant_id)
        return site

    async def delete_site(self, actor: Actor, tenant_id: int, site_id: int) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            if not await repo.lock_tenant(conn, tenant_id) or await repo.get_site(conn, tenant_id, site_id) is None:
                raise site_not_found()
            if not await repo.delete_site(conn, tenant_id, site_id):
                raise Conflict("The default site cannot be deleted.", code=ErrorCode.DEFAULT_SITE_REQUIRED)
            await audit.record(conn, actor, tenant_id, "site.deleted", "site", site_id)
        self._forget_scopes(tenant_id)
