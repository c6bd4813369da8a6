"""Shared set-up for the Magento REST tests: a tenant configured like a Magento store."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import TenantFixture, make_tenant, unique

# Magento's defaults (seed-apis.md §2.6, §2.7): customer token 60 minutes, 8 characters from 3 classes.
MAGENTO_LIKE_SETTINGS = {
    "accessTokenMinutes": 60,
    "password": {"minLength": 8, "requiredCharacterClasses": 3, "rejectCommon": False},
}


@dataclass
class MagentoTenant:
    tenant: TenantFixture
    host: str
    admin_username: str
    admin_password: str
    admin_token: str

    @property
    def id(self) -> int:
        return self.tenant.id

    def headers(self, token: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Host": self.host, **extra}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def call(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        token: str | None = None,
        json: Any = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {**self.headers(token), **kwargs.pop("headers", {})}
        return await client.request(method, path, headers=headers, json=json, **kwargs)

    async def admin(
        self, client: httpx.AsyncClient, method: str, path: str, json: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.call(client, method, path, self.admin_token, json, **kwargs)


async def make_magento_tenant(
    client: httpx.AsyncClient,
    platform_headers: dict[str, str],
    *,
    default_site_name: str = "Default Store View",
    settings: dict[str, Any] | None = None,
) -> MagentoTenant:
    tenant = await make_tenant(client, platform_headers)
    host = f"{unique('shop')}.example.test"
    body = {**MAGENTO_LIKE_SETTINGS, **(settings or {}), "hostNames": [host]}
    changed = await client.put(f"/admin/v1/tenants/{tenant.id}/settings", json=body, headers=tenant.admin_headers)
    assert changed.status_code == 200, changed.text
    renamed = await client.patch(
        f"/admin/v1/tenants/{tenant.id}/sites/{tenant.default_site_id}",
        json={"name": default_site_name},
        headers=tenant.admin_headers,
    )
    assert renamed.status_code == 200, renamed.text
    username, password = unique("mage-admin"), secrets.token_urlsafe(16)
    created = await client.post(
        f"/admin/v1/tenants/{tenant.id}/admin-users",
        json={"username": username, "password": password, "role": "admin"},
        headers=platform_headers,
    )
    assert created.status_code == 201, created.text
    token = await client.post(
        "/rest/V1/integration/admin/token", json={"username": username, "password": password}, headers={"Host": host}
    )
    assert token.status_code == 200, token.text
    return MagentoTenant(tenant, host, username, password, token.json())


async def add_store_view(
    client: httpx.AsyncClient, tenant: MagentoTenant, code: str, website_name: str, store_name: str
) -> dict[str, Any]:
    """A customer set (website) and a site (store view) in it, both with this code."""
    admin = tenant.tenant.admin_headers
    created = await client.post(
        f"/admin/v1/tenants/{tenant.id}/customer-sets", json={"code": code, "name": website_name}, headers=admin
    )
    assert created.status_code == 201, created.text
    site = await client.post(
        f"/admin/v1/tenants/{tenant.id}/sites",
        json={"code": code, "name": store_name, "customerSetCode": code},
        headers=admin,
    )
    assert site.status_code == 201, site.text
    return {"site_id": site.json()["id"], "website_id": created.json()["id"]}


async def default_website_id(client: httpx.AsyncClient, tenant: MagentoTenant) -> int:
    found = await client.get(
        f"/admin/v1/tenants/{tenant.id}/customer-sets/default", headers=tenant.tenant.admin_headers
    )
    assert found.status_code == 200, found.text
    return found.json()["id"]
