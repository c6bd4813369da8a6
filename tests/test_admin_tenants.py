"""Admin API: tenants, settings, customer sets and sites, and who may touch them."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TenantFixture, assert_problem, unique


async def test_platform_admin_creates_tenant_with_default_site(client: httpx.AsyncClient, platform_headers) -> None:
    response = await client.post("/admin/v1/tenants", json={"name": "Acme"}, headers=platform_headers)
    assert response.status_code == 201
    tenant = response.json()
    sites = (await client.get(f"/admin/v1/tenants/{tenant['id']}/sites", headers=platform_headers)).json()
    assert [(s["id"], s["code"], s["isDefault"], s["customerSetCode"]) for s in sites] == [
        (tenant["defaultSiteId"], "default", True, "default")
    ]


async def test_settings_have_documented_defaults_and_are_validated(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    url = f"/admin/v1/tenants/{tenant.id}/settings"
    settings = (await client.get(url, headers=tenant.admin_headers)).json()
    assert settings["accessTokenMinutes"] == 15
    assert settings["refreshTokenIdleMinutes"] == 14 * 24 * 60
    assert settings["refreshTokenAbsoluteMinutes"] == 30 * 24 * 60
    assert settings["password"]["rejectCommon"] is True
    assert settings["throttle"] == {"maxFailuresPerAddress": 100, "windowMinutes": 5}

    changed = await client.put(url, json={**settings, "accessTokenMinutes": 30}, headers=tenant.admin_headers)
    assert changed.status_code == 200 and changed.json()["accessTokenMinutes"] == 30
    assert (await client.get(url, headers=tenant.viewer_headers)).json()["accessTokenMinutes"] == 30

    beyond_cap = await client.put(url, json={"accessTokenMinutes": 100_000}, headers=tenant.admin_headers)
    assert_problem(beyond_cap, 400, "VALIDATION_FAILED")
    idle_over_absolute = await client.put(
        url, json={"refreshTokenIdleMinutes": 600, "refreshTokenAbsoluteMinutes": 60}, headers=tenant.admin_headers
    )
    body = assert_problem(idle_over_absolute, 400, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == ["refreshTokenIdleMinutes"]
    unknown = await client.put(url, json={"accessTokenMinutes": 20, "colour": "red"}, headers=tenant.admin_headers)
    assert_problem(unknown, 400, "VALIDATION_FAILED")
    wrong_type = await client.put(url, json={"lockout": {"maxFailures": "ten"}}, headers=tenant.admin_headers)
    assert_problem(wrong_type, 400, "VALIDATION_FAILED")
    assert (await client.get(url, headers=tenant.admin_headers)).json()["accessTokenMinutes"] == 30


async def test_customer_sets_and_sites(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    base = f"/admin/v1/tenants/{tenant.id}"
    h = tenant.admin_headers
    created = await client.post(f"{base}/customer-sets", json={"code": "b2b", "name": "Business"}, headers=h)
    assert created.status_code == 201
    assert_problem(await client.post(f"{base}/customer-sets", json={"code": "b2b", "name": "x"}, headers=h), 409)
    assert_problem(await client.post(f"{base}/customer-sets", json={"code": "B 2", "name": "x"}, headers=h), 400)

    site = await client.post(
        f"{base}/sites", json={"code": "wholesale", "name": "Wholesale", "customerSetCode": "b2b"}, headers=h
    )
    assert site.status_code == 201
    site_id = site.json()["id"]
    assert_problem(
        await client.post(f"{base}/sites", json={"code": "x", "name": "X", "customerSetCode": "nope"}, headers=h), 400
    )
    assert_problem(await client.delete(f"{base}/customer-sets/b2b", headers=h), 409, "CUSTOMER_SET_IN_USE")

    made_default = await client.patch(f"{base}/sites/{site_id}", json={"isDefault": True}, headers=h)
    assert made_default.json()["isDefault"] is True
    tenant_now = (await client.get(base, headers=h)).json()
    assert tenant_now["defaultSiteId"] == site_id
    assert_problem(await client.delete(f"{base}/sites/{site_id}", headers=h), 409, "DEFAULT_SITE_REQUIRED")
    assert_problem(await client.patch(f"{base}/sites/{site_id}", json={"isDefault": False}, headers=h), 400)

    await client.patch(f"{base}/sites/{tenant.default_site_id}", json={"isDefault": True}, headers=h)
    assert (await client.delete(f"{base}/sites/{site_id}", headers=h)).status_code == 204
    assert (await client.delete(f"{base}/customer-sets/b2b", headers=h)).status_code == 204
    assert_problem(await client.get(f"{base}/sites/{site_id}", headers=h), 404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "renamed"}),
        ("GET", "/settings", None),
        ("PUT", "/settings", {}),
        ("GET", "/sites", None),
        ("POST", "/sites", {"code": "s2", "name": "S", "customerSetCode": "default"}),
        ("GET", "/customer-sets", None),
        ("POST", "/customer-sets", {"code": "c2", "name": "C"}),
        ("GET", "/applications", None),
        ("POST", "/applications", {"name": "app"}),
        ("GET", "/admin-users", None),
        ("POST", "/admin-users", {"username": "someone", "password": "a-long-password-1"}),
        ("DELETE", "", None),
    ],
)
async def test_permission_matrix(
    client: httpx.AsyncClient,
    platform_headers,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    method: str,
    path: str,
    body: object,
) -> None:
    url = f"/admin/v1/tenants/{tenant.id}{path}"
    reads = method == "GET"

    anonymous = await client.request(method, url, json=body)
    assert_problem(anonymous, 401)
    application = await client.request(method, url, json=body, headers=tenant.app_headers)
    assert_problem(application, 401)
    foreign_admin = await client.request(method, url, json=body, headers=other_tenant.admin_headers)
    assert_problem(foreign_admin, 404, "TENANT_NOT_FOUND")
    # A tenant that does not exist looks exactly like a tenant that is not yours.
    missing = await client.request(
        method, f"/admin/v1/tenants/2147483000{path}", json=body, headers=other_tenant.admin_headers
    )
    assert missing.json()["detail"] == foreign_admin.json()["detail"]

    viewer = await client.request(method, url, json=body, headers=tenant.viewer_headers)
    if reads:
        assert viewer.status_code == 200, viewer.text
    else:
        assert_problem(viewer, 403)

    own_admin = await client.request(method, url, json=body, headers=tenant.admin_headers)
    if method == "DELETE":
        assert_problem(own_admin, 403, "PLATFORM_ADMIN_REQUIRED")
    else:
        assert own_admin.status_code in (200, 201), own_admin.text

    platform = await client.request(method, url, json=body, headers=platform_headers)
    if method == "POST":
        assert platform.status_code in (201, 409), platform.text  # the tenant admin may have made it first
    elif method == "DELETE":
        assert platform.status_code == 204
        assert_problem(await client.get(url, headers=platform_headers), 404)
    else:
        assert platform.status_code == 200, platform.text


async def test_tenant_admin_lists_only_own_tenant_and_cannot_create(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    listed = (await client.get("/admin/v1/tenants", headers=tenant.admin_headers)).json()
    assert [t["id"] for t in listed["items"]] == [tenant.id] and listed["totalCount"] == 1
    assert_problem(await client.post("/admin/v1/tenants", json={"name": "mine"}, headers=tenant.admin_headers), 403)


async def test_tenant_list_paging(client: httpx.AsyncClient, platform_headers) -> None:
    for _ in range(3):
        await client.post("/admin/v1/tenants", json={"name": unique("paged")}, headers=platform_headers)
    first = (await client.get("/admin/v1/tenants?startIndex=0&pageSize=2", headers=platform_headers)).json()
    second = (await client.get("/admin/v1/tenants?startIndex=2&pageSize=2", headers=platform_headers)).json()
    assert len(first["items"]) == 2 and first["totalCount"] >= 3
    assert {t["id"] for t in first["items"]}.isdisjoint({t["id"] for t in second["items"]})
    assert_problem(await client.get("/admin/v1/tenants?pageSize=201", headers=platform_headers), 400)
    assert_problem(await client.get("/admin/v1/tenants?startIndex=-1", headers=platform_headers), 400)
