"""Kibo platform API: the tenant an application belongs to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath

from service.http.common import Id, Injected
from service.http.contract import APPLICATION_SECURITY
from service.http.kibo.auth import app_of
from service.platform.config import Settings
from service.tenants.service import Tenants, tenant_not_found


class KiboTenantSite(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    tenant_id: int
    name: str
    code: FromPath[str]
    domain: str
    is_default: bool


class KiboTenant(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    name: str
    domain: str
    is_dev_tenant: bool
    sites: list[KiboTenantSite]
    master_catalogs: list[Any]


class KiboTenantController(Controller):
    path = "/api/platform/tenants"
    tags = ["Kibo: tenant"]
    security = APPLICATION_SECURITY

    @get("/{tenant_id:int}", summary="The calling application's tenant, in Kibo's shape")
    async def get_tenant(
        self, request: Request[Any, Any, Any], tenants: Injected[Tenants], settings: Injected[Settings], tenant_id: Id
    ) -> KiboTenant:
        if tenant_id != app_of(request).principal.tenant_id:
            raise tenant_not_found()
        tenant = await tenants.get_tenant(tenant_id)
        domain = urlsplit(settings.public_url).netloc
        sites = [
            KiboTenantSite(
                id=s.id, tenant_id=s.tenant_id, name=s.name, code=s.code, domain=domain, is_default=s.is_default
            )
            for s in await tenants.list_sites(tenant_id)
        ]
        return KiboTenant(
            id=tenant.id, name=tenant.name, domain=domain, is_dev_tenant=False, sites=sites, master_catalogs=[]
        )
