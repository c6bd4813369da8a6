"""Admin API: tenants, their settings, customer sets and sites."""

from __future__ import annotations

import msgspec
from litestar import delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from service.http.admin.auth import Admin, AdminActor, AdminController
from service.http.common import Id, Injected, PageSize, StartIndex
from service.tenants.models import (
    CustomerSet,
    CustomerSetCreate,
    CustomerSetUpdate,
    Site,
    SiteCreate,
    SiteUpdate,
    Tenant,
    TenantCreate,
    TenantUpdate,
)
from service.tenants.service import Tenants
from service.tenants.settings import TenantSettings


class TenantPage(msgspec.Struct, rename="camel", kw_only=True):
    items: list[Tenant]
    total_count: int
    start_index: int
    page_size: int


class TenantController(AdminController):
    path = "/admin/v1/tenants"
    tags = ["Admin: tenants"]

    @post("/", summary="Create a tenant, with a default customer set and site (platform admins)")
    async def create_tenant(
        self, tenants: Injected[Tenants], admin: Admin, who: AdminActor, data: JSONBody[TenantCreate]
    ) -> Tenant:
        admin.require_platform()
        return await tenants.create_tenant(who, data.name)

    @get("/", summary="List the tenants the caller may see")
    async def list_tenants(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        start_index: StartIndex = 0,
        page_size: PageSize = 20,
    ) -> TenantPage:
        only = None if admin.is_platform_admin else admin.tenant_id
        items, total = await tenants.list_tenants(only, start_index, page_size)
        return TenantPage(items=items, total_count=total, start_index=start_index, page_size=page_size)

    @get("/{tenant_id:int}", summary="Get a tenant")
    async def get_tenant(self, tenants: Injected[Tenants], admin: Admin, tenant_id: Id) -> Tenant:
        admin.require_tenant(tenant_id, write=False)
        return await tenants.get_tenant(tenant_id)

    @patch("/{tenant_id:int}", summary="Rename a tenant")
    async def update_tenant(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        data: JSONBody[TenantUpdate],
    ) -> Tenant:
        admin.require_tenant(tenant_id, write=True)
        return await tenants.rename_tenant(who, tenant_id, data.name)

    @delete("/{tenant_id:int}", summary="Delete a tenant and everything it owns (platform admins)")
    async def delete_tenant(self, tenants: Injected[Tenants], admin: Admin, who: AdminActor, tenant_id: Id) -> None:
        admin.require_tenant(tenant_id, write=True)
        admin.require_platform()
        await tenants.delete_tenant(who, tenant_id)

    @get("/{tenant_id:int}/settings", summary="Get a tenant's security settings")
    async def get_settings(self, tenants: Injected[Tenants], admin: Admin, tenant_id: Id) -> TenantSettings:
        admin.require_tenant(tenant_id, write=False)
        return await tenants.get_settings(tenant_id)

    @put(
        "/{tenant_id:int}/settings",
        summary="Replace a tenant's security settings",
        description="Omitted fields take their documented defaults. Lifetimes are checked against the platform caps.",
    )
    async def put_settings(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        data: JSONBody[TenantSettings],
    ) -> TenantSettings:
        admin.require_tenant(tenant_id, write=True)
        return await tenants.put_settings(who, tenant_id, data)


class CustomerSetController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/customer-sets"
    tags = ["Admin: customer sets"]

    @post("/", summary="Create a customer set (an account-sharing scope)")
    async def create_customer_set(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        data: JSONBody[CustomerSetCreate],
    ) -> CustomerSet:
        admin.require_tenant(tenant_id, write=True)
        return await tenants.create_customer_set(who, tenant_id, data)

    @get("/", summary="List customer sets")
    async def list_customer_sets(self, tenants: Injected[Tenants], admin: Admin, tenant_id: Id) -> list[CustomerSet]:
        admin.require_tenant(tenant_id, write=False)
        return await tenants.list_customer_sets(tenant_id)

    @get("/{code:str}", summary="Get a customer set")
    async def get_customer_set(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        tenant_id: Id,
        code: FromPath[str],
    ) -> CustomerSet:
        admin.require_tenant(tenant_id, write=False)
        return await tenants.get_customer_set(tenant_id, code)

    @patch("/{code:str}", summary="Rename a customer set")
    async def update_customer_set(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        code: FromPath[str],
        data: JSONBody[CustomerSetUpdate],
    ) -> CustomerSet:
        admin.require_tenant(tenant_id, write=True)
        return await tenants.update_customer_set(who, tenant_id, code, data)

    @delete("/{code:str}", summary="Delete a customer set no site uses")
    async def delete_customer_set(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        code: FromPath[str],
    ) -> None:
        admin.require_tenant(tenant_id, write=True)
        await tenants.delete_customer_set(who, tenant_id, code)


class SiteController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/sites"
    tags = ["Admin: sites"]

    @post("/", summary="Create a site in a customer set")
    async def create_site(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        data: JSONBody[SiteCreate],
    ) -> Site:
        admin.require_tenant(tenant_id, write=True)
        return await tenants.create_site(who, tenant_id, data)

    @get("/", summary="List sites")
    async def list_sites(self, tenants: Injected[Tenants], admin: Admin, tenant_id: Id) -> list[Site]:
        admin.require_tenant(tenant_id, write=False)
        return await tenants.list_sites(tenant_id)

    @get("/{site_id:int}", summary="Get a site")
    async def get_site(self, tenants: Injected[Tenants], admin: Admin, tenant_id: Id, site_id: Id) -> Site:
        admin.require_tenant(tenant_id, write=False)
        return await tenants.get_site(tenant_id, site_id)

    @patch("/{site_id:int}", summary="Rename a site or make it the default")
    async def update_site(
        self,
        tenants: Injected[Tenants],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        site_id: Id,
        data: JSONBody[SiteUpdate],
    ) -> Site:
        admin.require_tenant(tenant_id, write=True)
        return await tenants.update_site(who, tenant_id, site_id, data)

    @delete("/{site_id:int}", summary="Delete a site other than the default")
    async def delete_site(
        self, tenants: Injected[Tenants], admin: Admin, who: AdminActor, tenant_id: Id, site_id: Id
    ) -> None:
        admin.require_tenant(tenant_id, write=True)
        await tenants.delete_site(who, tenant_id, site_id)
