"""Which tenant and store a Magento call is for, and the tenant's stores as Magento lists them.

A store view is a site of the tenant, a website (and its one store group) a customer set.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import ErrorCode, NotFound
from service.magento import repository as repo
from service.magento.context import MagentoContext
from service.magento.errors import store_not_found
from service.magento.records import Store, StoreGroup, Website
from service.platform.db import Database
from service.tenants.settings import TenantSettings

ADMIN_STORE_CODE = "all"
DEFAULT_STORE_CODE = "default"


@dataclass(frozen=True, kw_only=True, slots=True)
class MagentoStores:
    db: Database

    async def tenant_for_host(self, host: str) -> int | None:
        return await repo.tenant_for_host(self.db, host)

    async def storefront(self, tenant_id: int, code: str | None) -> tuple[TenantSettings, Store | None, Store]:
        """(tenant settings, the store of `code`, the default store). `default` (or no code) is the tenant's default
        site, `all` the admin store (None); any other code must be a site code of the tenant."""
        named = None if code in (None, DEFAULT_STORE_CODE, ADMIN_STORE_CODE) else code
        settings, stores = await repo.tenant_stores(self.db, tenant_id, named)
        default = next((store for store in stores if store.is_default), None)
        if settings is None or default is None:
            raise NotFound("Tenant not found.", code=ErrorCode.TENANT_NOT_FOUND)
        if code == ADMIN_STORE_CODE:
            return settings, None, default
        if named is None:
            return settings, default, default
        match = next((store for store in stores if store.code == named), None)
        if match is None:
            raise store_not_found()
        return settings, match, default

    async def store_views(self, ctx: MagentoContext) -> list[Store]:
        return await repo.list_stores(self.db, ctx.tenant_id)

    async def websites(self, ctx: MagentoContext) -> list[Website]:
        return await repo.list_websites(self.db, ctx.tenant_id)

    async def store_groups(self, ctx: MagentoContext) -> list[StoreGroup]:
        return await repo.list_store_groups(self.db, ctx.tenant_id)
