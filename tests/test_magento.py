"""Magento REST over HTTP: tenant and store resolution, tokens as Gatehouse sessions, customers,
search, permissions and errors — partly driven by PyMagento, a real Magento client from PyPI."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets

import httpx
import pytest
from magento import Magento, MagentoException
from magento.queries import make_search_query
from redis.asyncio import Redis

from service.platform import keyspace
from tests.conftest import Mailbox, Servers, make_tenant, start_service, stop_service, unique
from tests.magento_support import MagentoTenant, add_store_view, default_website_id, make_magento_tenant

PASSWORD = "Password1"
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
SIGN_IN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)


def customer_body(email: str, **extra: object) -> dict:
    address = {
        "firstname": "Jane",
        "lastname": "Doe",
        "street": ["160 1st St.", "Apt 2"],
        "city": "Mineola",
        "countryId": "US",
        "postcode": "11501",
        "telephone": "516-555-1111",
        "region": {"regionCode": "NY", "regionId": 43, "region": "New York"},
        "defaultBilling": True,
        "defaultShipping": True,
    }
    return {
        "customer": {"email": email, "firstname": "Jane", "lastname": "Doe", "addresses": [address], **extra},
        "password": PASSWORD,
    }


async def create_customer(
    client: httpx.AsyncClient, tenant: MagentoTenant, email: str | None = None, **extra: object
) -> dict:
    response = await tenant.admin(
        client, "POST", "/rest/V1/customers", json=customer_body(email or f"{unique('c')}@example.com", **extra)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def customer_token(
    client: httpx.AsyncClient,
    tenant: MagentoTenant,
    email: str,
    password: str = PASSWORD,
    path: str = "/rest/V1/integration/customer/token",
) -> httpx.Response:
    return await tenant.call(client, "POST", path, json={"username": email, "password": password})


async def introspect(client: httpx.AsyncClient, tenant: MagentoTenant, token: str) -> dict:
    basic = base64.b64encode(f"{tenant.tenant.client_id}:{tenant.tenant.client_secret}".encode()).decode()
    response = await client.post(
        f"/tenants/{tenant.id}/oauth2/introspect", data={"token": token}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def magento_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "parameters"}, body
    return body


@pytest.fixture
async def shop(client: httpx.AsyncClient, platform_headers: dict[str, str]) -> MagentoTenant:
    return await make_magento_tenant(client, platform_headers)


# --- tenant and store resolution ----------------------------------------------------------------


async def test_tenant_by_host_then_header(client: httpx.AsyncClient, shop: MagentoTenant, platform_headers) -> None:
    other = await make_magento_tenant(client, platform_headers)
    by_host = await client.get("/rest/V1/store/websites", headers=shop.headers(shop.admin_token))
    assert by_host.status_code == 200 and by_host.json()[0] == {
        "id": 0,
        "code": "admin",
        "name": "Admin",
        "default_group_id": 0,
    }
    # The port is not part of the host name; upper case is folded.
    with_port = await client.get(
        "/rest/V1/store/websites",
        headers={"Host": f"{shop.host.upper()}:8443", "Authorization": f"Bearer {shop.admin_token}"},
    )
    assert with_port.status_code == 200
    # Another tenant's admin token does not open this tenant's store.
    body = magento_error(await client.get("/rest/V1/store/websites", headers=shop.headers(other.admin_token)), 401)
    assert body == {"message": NOT_AUTHORIZED, "parameters": {"resources": "Magento_Backend::store"}}
    # Without a known host, x-vol-tenant names the tenant; the host wins when both are there.
    header = {"x-vol-tenant": str(shop.id), "Authorization": f"Bearer {shop.admin_token}"}
    assert (await client.get("/rest/V1/store/websites", headers=header)).status_code == 200
    assert (await client.get("/rest/V1/store/websites", headers={**header, "Host": other.host})).status_code == 401
    # No host, no header, no default tenant configured: nothing to serve.
    magento_error(await client.get("/rest/V1/store/websites"), 404)
    magento_error(await client.get("/rest/V1/store/websites", headers={"x-vol-tenant": "12abc"}), 400)


async def test_default_tenant_from_configuration(
    servers: Servers, client: httpx.AsyncClient, shop: MagentoTenant, tmp_path
) -> None:
    running = start_service(servers, tmp_path / "service.log", GATEHOUSE_DEFAULT_TENANT_ID=str(shop.id))
    try:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as other:
            token = await other.post(
                "/rest/V1/integration/admin/token",
                json={"username": shop.admin_username, "password": shop.admin_password},
            )
            assert token.status_code == 200, token.text
            views = await other.get(
                "/rest/all/V1/store/storeViews", headers={"Authorization": f"Bearer {token.json()}"}
            )
            assert views.status_code == 200 and views.json()[0]["id"] == shop.tenant.default_site_id
    finally:
        assert stop_service(running) == 0


async def test_host_names_are_validated_and_unique(
    client: httpx.AsyncClient, shop: MagentoTenant, platform_headers
) -> None:
    other = await make_tenant(client, platform_headers)
    url = f"/admin/v1/tenants/{other.id}/settings"
    for bad in (
        ["Shop.Example"],
        ["shop.example:80"],
        ["a.example", "a.example"],
        [f"h{i}.example" for i in range(21)],
    ):
        assert (await client.put(url, json={"hostNames": bad}, headers=other.admin_headers)).status_code == 400, bad
    taken = await client.put(url, json={"hostNames": ["free.example", shop.host]}, headers=other.admin_headers)
    assert taken.status_code == 409 and taken.json()["code"] == "HOST_NAME_TAKEN"
    ok = await client.put(url, json={"hostNames": [f"{unique('x')}.example"]}, headers=other.admin_headers)
    assert ok.status_code == 200 and len(ok.json()["hostNames"]) == 1


async def test_store_codes_and_store_shapes(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    us = await add_store_view(client, shop, "us", "US Website", "US Store View")
    default_website = await default_website_id(client, shop)
    for code in ("default", "all", "us"):
        assert (await shop.admin(client, "GET", f"/rest/{code}/V1/store/websites")).status_code == 200
    body = magento_error(await shop.admin(client, "GET", "/rest/nowhere/V1/store/websites"), 404)
    assert body["message"] == "The store that was requested wasn't found. Verify the store and try again."

    websites = (await shop.admin(client, "GET", "/rest/V1/store/websites")).json()
    assert websites == [
        {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
        {"id": default_website, "code": "default", "name": "Default customer set", "default_group_id": default_website},
        {"id": us["website_id"], "code": "us", "name": "US Website", "default_group_id": us["website_id"]},
    ]
    groups = (await shop.admin(client, "GET", "/rest/V1/store/storeGroups")).json()
    assert groups == [
        {"id": 0, "website_id": 0, "root_category_id": 0, "default_store_id": 0, "name": "Default", "code": "default"},
        {
            "id": default_website,
            "website_id": default_website,
            "root_category_id": 2,
            "default_store_id": shop.tenant.default_site_id,
            "name": "Default customer set",
            "code": "default",
        },
        {
            "id": us["website_id"],
            "website_id": us["website_id"],
            "root_category_id": 2,
            "default_store_id": us["site_id"],
            "name": "US Website",
            "code": "us",
        },
    ]
    # Store resources need an admin token since Magento 2.3; a viewer may read them.
    body = magento_error(await shop.call(client, "GET", "/rest/V1/store/storeViews"), 401)
    assert body["parameters"] == {"resources": "Magento_Backend::store"}


# --- tokens -----------------------------------------------------------------------------------------


async def test_admin_token_and_roles(client: httpx.AsyncClient, shop: MagentoTenant, platform_headers) -> None:
    wrong = await shop.call(
        client, "POST", "/rest/V1/integration/admin/token", json={"username": shop.admin_username, "password": "not it"}
    )
    assert magento_error(wrong, 401) == {"message": SIGN_IN_FAILED, "parameters": []}
    missing = magento_error(
        await shop.call(client, "POST", "/rest/V1/integration/admin/token", json={"username": "x"}), 400
    )
    assert missing == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "password"},
    }

    viewer, password = unique("viewer"), secrets.token_urlsafe(16)
    made = await client.post(
        f"/admin/v1/tenants/{shop.id}/admin-users",
        json={"username": viewer, "password": password, "role": "viewer"},
        headers=platform_headers,
    )
    assert made.status_code == 201
    token = (
        await shop.call(
            client, "POST", "/rest/V1/integration/admin/token", json={"username": viewer, "password": password}
        )
    ).json()
    customer = await create_customer(client, shop)
    assert (await shop.call(client, "GET", f"/rest/V1/customers/{customer['id']}", token)).status_code == 200
    denied = await shop.call(client, "DELETE", f"/rest/V1/customers/{customer['id']}", token)
    assert magento_error(denied, 401)["parameters"] == {"resources": "Magento_Customer::manage"}
    # The Magento admin token is a Gatehouse admin token: it works on the admin API too.
    assert (
        await client.get(f"/admin/v1/tenants/{shop.id}", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200


async def test_customer_token_is_a_gatehouse_session(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers
) -> None:
    customer = await create_customer(client, shop)
    response = await customer_token(client, shop, customer["email"].upper())
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    token = response.json()
    info = await introspect(client, shop, token)
    assert info["active"] is True and info["client_id"] == "magento" and info["account_id"] == customer["id"]
    assert info["exp"] - info["iat"] == 60 * 60  # the tenant's accessTokenMinutes (Magento's default hour)
    assert info["customer_set"] == "default" and info["username"] == customer["email"]
    # Nobody gets its refresh token, so the session itself ends with the access token.
    redis = Redis.from_url(servers.redis_url)
    try:
        assert 0 < await redis.pttl(keyspace.session_key(info["sid"])) <= 60 * 60 * 1000
    finally:
        await redis.aclose()

    # The customer's own sessions list it, like any other login.
    sessions = await client.get(
        "/api/commerce/customer/authtickets/sessions", headers={**shop.tenant.app_headers, "x-vol-user-claims": token}
    )
    assert sessions.status_code == 200 and [s["clientId"] for s in sessions.json()] == ["magento"]
    # Alone, it names no application, so Kibo's routes (which act for an application) refuse it.
    alone = await client.get("/api/commerce/customer/accounts/current", headers={"Authorization": f"Bearer {token}"})
    assert alone.status_code == 401 and alone.json()["errorCode"] == "INVALID_APP_TOKEN"

    # RFC 7009 revocation ends it for Magento too.
    basic = base64.b64encode(f"{shop.tenant.client_id}:{shop.tenant.client_secret}".encode()).decode()
    revoked = await client.post(
        f"/tenants/{shop.id}/oauth2/revoke", data={"token": token}, headers={"Authorization": f"Basic {basic}"}
    )
    assert revoked.status_code == 200
    body = magento_error(await shop.call(client, "GET", "/rest/V1/customers/me", token), 401)
    assert body == {"message": NOT_AUTHORIZED, "parameters": {"resources": "self"}}


async def test_revoke_customer_token_ends_every_session(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    customer = await create_customer(client, shop)
    first = (await customer_token(client, shop, customer["email"])).json()
    second = (await customer_token(client, shop, customer["email"])).json()
    kibo = await client.post(
        "/api/commerce/customer/authtickets",
        json={"username": customer["email"], "password": PASSWORD},
        headers=shop.tenant.app_headers,
    )
    assert kibo.status_code == 200
    revoked = await shop.call(client, "POST", "/rest/V1/integration/customer/revoke-customer-token", first, json={})
    assert revoked.status_code == 200 and revoked.json() is True
    for token in (first, second, kibo.json()["accessToken"], kibo.json()["refreshToken"]):
        assert await introspect(client, shop, token) == {"active": False}
    # Without a customer token the route is refused; an admin token is not a customer's.
    magento_error(await shop.call(client, "POST", "/rest/V1/integration/customer/revoke-customer-token", json={}), 401)
    magento_error(await shop.admin(client, "POST", "/rest/V1/integration/customer/revoke-customer-token", json={}), 401)


async def test_failed_customer_logins_look_alike_and_lock(client: httpx.AsyncClient, platform_headers) -> None:
    shop = await make_magento_tenant(
        client, platform_headers, settings={"lockout": {"maxFailures": 3, "windowMinutes": 30, "lockMinutes": 30}}
    )
    customer = await create_customer(client, shop)
    no_password = await shop.admin(
        client,
        "POST",
        "/rest/V1/customers",
        json={"customer": {"email": f"{unique('np')}@example.com", "firstname": "N", "lastname": "P"}},
    )
    assert no_password.status_code == 200
    attempts = [
        await customer_token(client, shop, f"{unique('ghost')}@example.com"),
        await customer_token(client, shop, no_password.json()["email"]),
        await customer_token(client, shop, customer["email"], "Wrong-password1"),
    ]
    for response in attempts:
        assert magento_error(response, 401) == {"message": SIGN_IN_FAILED, "parameters": []}
    # Two more failures reach the limit of 3 for this user name; then even the right password is refused.
    for _ in range(2):
        magento_error(await customer_token(client, shop, customer["email"], "Wrong-password1"), 401)
    assert magento_error(await customer_token(client, shop, customer["email"]), 401)["message"] == SIGN_IN_FAILED
    # Another user name is not affected.
    other = await create_customer(client, shop)
    assert (await customer_token(client, shop, other["email"])).status_code == 200


async def test_parallel_customer_token_guesses_reach_the_password_check_at_most_the_limit(
    client: httpx.AsyncClient, platform_headers
) -> None:
    shop = await make_magento_tenant(
        client, platform_headers, settings={"lockout": {"maxFailures": 3, "windowMinutes": 30, "lockMinutes": 30}}
    )
    customer = await create_customer(client, shop)
    guesses = await asyncio.gather(
        *(customer_token(client, shop, customer["email"], "Wrong-password1") for _ in range(10))
    )
    for response in guesses:
        assert magento_error(response, 401) == {"message": SIGN_IN_FAILED, "parameters": []}
    # The route's throttle took each guess's slot first: only three ever reached the login (and its audit trail).
    events = await client.get(
        f"/admin/v1/tenants/{shop.id}/accounts/{customer['id']}/audit-events", headers=shop.tenant.admin_headers
    )
    assert [e["details"]["reason"] for e in events.json() if e["action"] == "login.failed"] == ["wrong_password"] * 3
    assert magento_error(await customer_token(client, shop, customer["email"]), 401)["message"] == SIGN_IN_FAILED


async def test_customer_tokens_are_per_website(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    await add_store_view(client, shop, "us", "US Website", "US Store View")
    customer = await create_customer(client, shop)  # in the default website
    magento_error(
        await customer_token(client, shop, customer["email"], path="/rest/us/V1/integration/customer/token"), 401
    )
    assert (
        await customer_token(client, shop, customer["email"], path="/rest/default/V1/integration/customer/token")
    ).status_code == 200
    # The customer's token works in every store view of the tenant: it names the customer.
    token = (await customer_token(client, shop, customer["email"])).json()
    assert (await shop.call(client, "GET", "/rest/us/V1/customers/me", token)).json()["id"] == customer["id"]


# --- customers ----------------------------------------------------------------------------------


async def test_customer_crud_and_permissions(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    customer = await create_customer(
        client,
        shop,
        dob="1990-05-17",
        gender=2,
        middlename="Q",
        taxvat="GB123",
        group_id=2,
        extension_attributes={"is_subscribed": True},
    )
    assert customer["dob"] == "1990-05-17" and customer["gender"] == 2 and customer["middlename"] == "Q"
    assert customer["taxvat"] == "GB123" and customer["group_id"] == 2
    assert customer["extension_attributes"] == {"is_subscribed": True}
    assert customer["addresses"][0]["street"] == ["160 1st St.", "Apt 2"]
    url = f"/rest/V1/customers/{customer['id']}"
    assert (await shop.admin(client, "GET", url)).json() == customer
    trimmed = await shop.admin(client, "GET", url, params={"fields": "id,extension_attributes,addresses[city,street]"})
    assert trimmed.json() == {
        "id": customer["id"],
        "extension_attributes": {"is_subscribed": True},
        "addresses": [{"city": "Mineola", "street": ["160 1st St.", "Apt 2"]}],
    }
    assert (
        magento_error(await shop.admin(client, "GET", url, params={"fields": "id[["}), 400)["parameters"]["fieldName"]
        == "fields"
    )

    token = (await customer_token(client, shop, customer["email"])).json()
    for method, path in (
        ("GET", url),
        ("DELETE", url),
        ("GET", "/rest/V1/customers/search?searchCriteria[pageSize]=1"),
    ):
        body = magento_error(await shop.call(client, method, path, token), 401)
        assert body["message"] == NOT_AUTHORIZED
    magento_error(await shop.call(client, "GET", url), 401)

    changed = await shop.admin(client, "PUT", url, json={"customer": {"lastname": "Roe", "default_billing": None}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["lastname"] == "Roe" and changed.json()["addresses"] == customer["addresses"]
    assert changed.json()["dob"] == "1990-05-17"  # left out, kept

    missing = magento_error(await shop.admin(client, "GET", "/rest/V1/customers/999999999"), 404)
    assert missing == {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "customerId", "fieldValue": "999999999"},
    }
    deleted = await shop.admin(client, "DELETE", url)
    assert deleted.status_code == 200 and deleted.json() is True
    magento_error(await shop.admin(client, "GET", url), 404)
    assert await introspect(client, shop, token) == {"active": False}  # its sessions went with it


async def test_addresses_are_replaced_as_magento_saves_them(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    customer = await create_customer(client, shop)
    first = customer["addresses"][0]
    url = f"/rest/V1/customers/{customer['id']}"
    second = {
        "firstname": "Jane",
        "lastname": "Doe",
        "street": ["1 Main St"],
        "city": "Austin",
        "country_id": "US",
        "telephone": "512-555-0000",
        "postcode": "73301",
        "region_id": 57,
        "region": {"region_code": "TX", "region": "Texas"},
        "default_shipping": True,
    }
    saved = await shop.admin(client, "PUT", url, json={"customer": {"addresses": [first, second]}})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    kept, added = body["addresses"]
    assert kept["id"] == first["id"] and kept["default_billing"] is True and "default_shipping" not in kept
    assert added["default_shipping"] is True and added["region"] == {
        "region_code": "TX",
        "region": "Texas",
        "region_id": 57,
    }
    assert body["default_billing"] == str(first["id"]) and body["default_shipping"] == str(added["id"])

    # default_billing by id on the customer moves the primary billing address.
    moved = await shop.admin(client, "PUT", url, json={"customer": {"default_billing": str(added["id"])}})
    assert moved.json()["default_billing"] == str(added["id"])
    # Kibo reads the same contacts.
    contacts = await client.get(
        f"/api/commerce/customer/accounts/{customer['id']}/contacts", headers=shop.tenant.app_headers
    )
    types = {c["id"]: c["types"] for c in contacts.json()["items"]}
    assert types[added["id"]] == [{"name": "Billing", "isPrimary": True}, {"name": "Shipping", "isPrimary": True}]
    # The first address keeps its types, no longer as the primary ones.
    assert types[first["id"]] == [{"name": "Billing", "isPrimary": False}, {"name": "Shipping", "isPrimary": False}]

    # Left out of the list: deleted. An id that is not the customer's: 404.
    only = await shop.admin(client, "PUT", url, json={"customer": {"addresses": [added]}})
    assert [a["id"] for a in only.json()["addresses"]] == [added["id"]]
    foreign = await shop.admin(client, "PUT", url, json={"customer": {"addresses": [{**second, "id": 2**31 - 1}]}})
    assert magento_error(foreign, 404)["parameters"] == {"fieldName": "addressId", "fieldValue": str(2**31 - 1)}
    incomplete = await shop.admin(client, "PUT", url, json={"customer": {"addresses": [{"firstname": "J"}]}})
    assert magento_error(incomplete, 400)["parameters"] == {"fieldName": "lastname"}


async def test_kibo_and_magento_read_each_others_writes(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    email = f"{unique('kibo')}@example.com"
    kibo = await client.post(
        "/api/commerce/customer/accounts/Add-Account-And-Login",
        json={
            "account": {
                "emailAddress": email,
                "firstName": "Kim",
                "lastName": "Bo",
                "acceptsMarketing": True,
                "contacts": [
                    {
                        "firstName": "Kim",
                        "lastNameOrSurname": "Bo",
                        "phoneNumbers": {"mobile": "555-0100"},
                        "address": {
                            "address1": "9 Elm",
                            "cityOrTown": "Reno",
                            "stateOrProvince": "NV",
                            "postalOrZipCode": "89501",
                            "countryCode": "US",
                        },
                        "types": [{"name": "Shipping", "isPrimary": True}],
                    }
                ],
            },
            "password": PASSWORD,
        },
        headers=shop.tenant.app_headers,
    )
    assert kibo.status_code == 200, kibo.text
    account_id = kibo.json()["customerAccount"]["id"]
    seen = (await shop.admin(client, "GET", f"/rest/V1/customers/{account_id}")).json()
    assert seen["email"] == email and seen["firstname"] == "Kim" and seen["group_id"] == 1
    assert seen["store_id"] == shop.tenant.default_site_id and seen["created_in"] == "Default Store View"
    assert seen["extension_attributes"] == {"is_subscribed": True} and "default_billing" not in seen
    [address] = seen["addresses"]
    assert address["telephone"] == "555-0100" and address["region"] == {
        "region_code": "NV",
        "region": "NV",
        "region_id": 0,
    }
    assert seen["default_shipping"] == str(address["id"])
    # A Magento token for an account made through Kibo.
    token = (await customer_token(client, shop, email)).json()
    renamed = await shop.call(
        client,
        "PUT",
        "/rest/V1/customers/me",
        token,
        json={"customer": {"firstname": "Kimberly", "group_id": 3, "addresses": [address]}},
    )
    assert renamed.status_code == 200 and renamed.json()["group_id"] == 1  # a customer cannot change its group
    assert renamed.json()["addresses"] == [address]
    account = await client.get(
        f"/api/commerce/customer/accounts/{account_id}?responseGroups=Contacts", headers=shop.tenant.app_headers
    )
    assert account.json()["firstName"] == "Kimberly"
    # The address came back as Magento showed it: what Magento cannot see stays as Kibo wrote it.
    [contact] = account.json()["contacts"]
    assert contact["phoneNumbers"] == {"home": None, "mobile": "555-0100", "work": None}
    # The Kibo session opened before the change answers its refresh with the renamed account.
    renewed = await client.put(
        "/api/commerce/customer/authtickets/refresh",
        params={"refreshToken": kibo.json()["refreshToken"]},
        headers=shop.tenant.app_headers,
    )
    assert renewed.json()["customerAccount"]["firstName"] == "Kimberly"


async def test_create_customer_input_rules(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    url = "/rest/V1/customers"
    email = f"{unique('in')}@example.com"
    cases = [
        ({"customer": {"firstname": "A", "lastname": "B"}}, {"fieldName": "email"}),
        ({"customer": {"email": email, "lastname": "B"}}, {"fieldName": "firstname"}),
        (
            {"customer": {"email": "not-an-email", "firstname": "A", "lastname": "B"}},
            {"value": "not-an-email", "fieldName": "email"},
        ),
    ]
    for body, parameters in cases:
        assert magento_error(await shop.admin(client, "POST", url, json=body), 400)["parameters"] == parameters
    weak = await shop.admin(client, "POST", url, json={**customer_body(email), "password": "password"})
    assert "3" in magento_error(weak, 400)["message"]
    unknown = await shop.admin(
        client, "POST", url, json={"customer": {"email": email, "firstname": "A", "lastname": "B", "shoeSize": 9}}
    )
    assert "shoe_size" in magento_error(unknown, 400)["parameters"][0]
    bad_store = await shop.admin(
        client,
        "POST",
        url,
        json={"customer": {"email": email, "firstname": "A", "lastname": "B", "store_id": 2**31 - 1}},
    )
    magento_error(bad_store, 404)
    in_all = await shop.admin(
        client, "POST", "/rest/all/V1/customers", json={"customer": {"email": email, "firstname": "A", "lastname": "B"}}
    )
    assert "website" in magento_error(in_all, 400)["message"]
    magento_error(
        await shop.admin(client, "POST", url, content=b"[1, 2]", headers={"content-type": "application/json"}), 400
    )

    # Anyone may register, as in Magento, but only an admin picks the group.
    anonymous = await shop.call(client, "POST", url, json=customer_body(email, group_id=3))
    assert anonymous.status_code == 200 and anonymous.json()["group_id"] == 1
    assert (await customer_token(client, shop, email)).status_code == 200


async def test_customer_bodies_keep_or_refuse_what_they_accept(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    """Nothing accepted is dropped: attributes Gatehouse cannot keep, a key sent twice (camelCase and snake_case)
    and a region id that says two things are 400s naming the field; is_subscribed reads 0/1 as Magento does."""
    url = "/rest/V1/customers"

    def body(customer: dict | None = None, address: dict | None = None) -> dict:
        sent = customer_body(f"{unique('keep')}@example.com", **(customer or {}))
        sent["customer"]["addresses"][0].update(address or {})
        return sent

    refused = [
        (body({"custom_attributes": [{"attribute_code": "loyalty", "value": "gold"}]}), "custom_attributes"),
        (body({"extension_attributes": {"is_subscribed": True, "loyalty": 1}}), "extension_attributes.loyalty"),
        (body(address={"custom_attributes": [{"attribute_code": "floor", "value": 3}]}), "addresses.custom_attributes"),
        (body(address={"extension_attributes": {"pickup": True}}), "addresses.extension_attributes.pickup"),
        (body(address={"region": {"region_id": 43, "extension_attributes": {"x": 1}}}),
         "addresses.region.extension_attributes.x"),
        (body(address={"default_billing": False}), "default_billing"),  # beside the body's defaultBilling
        (body(address={"region_id": 12}), "region_id"),  # the region says 43
        (body({"extension_attributes": {"is_subscribed": "yes"}}), "is_subscribed"),
        (body({"extension_attributes": {"is_subscribed": 2}}), "is_subscribed"),
    ]  # fmt: skip
    for sent, field in refused:
        error = magento_error(await shop.admin(client, "POST", url, json=sent), 400)
        assert error["parameters"]["fieldName"] == field, error
    # A default address named by id at creation is looked for, as on a change: here there is none.
    unknown = await shop.admin(client, "POST", url, json=body({"default_billing": "2147483000"}))
    assert magento_error(unknown, 404)["parameters"] == {"fieldName": "addressId", "fieldValue": "2147483000"}

    for flag, subscribed in ((1, True), ("1", True), (0, False), ("0", False)):
        sent = body({"custom_attributes": [], "extension_attributes": {"is_subscribed": flag}}, {"region_id": 43})
        created = await shop.admin(client, "POST", url, json=sent)
        assert created.status_code == 200, created.text
        assert created.json()["extension_attributes"] == {"is_subscribed": subscribed}


async def test_email_availability_and_password_changes(
    client: httpx.AsyncClient, shop: MagentoTenant, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, shop)
    email = customer["email"]
    us = await add_store_view(client, shop, "us", "US Website", "US Store View")
    available = "/rest/V1/customers/isEmailAvailable"
    assert (await shop.call(client, "POST", available, json={"customerEmail": email})).json() is False
    assert (
        await shop.call(client, "POST", available, json={"customerEmail": email, "websiteId": us["website_id"]})
    ).json() is True
    assert (
        await shop.call(client, "POST", "/rest/us/V1/customers/isEmailAvailable", json={"customerEmail": email})
    ).json() is True

    token = (await customer_token(client, shop, email)).json()
    change = "/rest/V1/customers/me/password"
    wrong = await shop.call(
        client, "PUT", change, token, json={"currentPassword": "Nope-nope1", "newPassword": "Better-pass2"}
    )
    assert (
        magento_error(wrong, 401)["message"]
        == "The password doesn't match this account. Verify the password and try again."
    )
    changed = await shop.call(
        client, "PUT", change, token, json={"currentPassword": PASSWORD, "newPassword": "Better-pass2"}
    )
    assert changed.status_code == 200 and changed.json() is True
    magento_error(await shop.call(client, "GET", "/rest/V1/customers/me", token), 401)  # sessions ended
    assert (await customer_token(client, shop, email, "Better-pass2")).status_code == 200

    before = len(mailbox.messages)
    for address in (email, f"{unique('nobody')}@example.com"):
        asked = await shop.call(
            client, "PUT", "/rest/V1/customers/password", json={"email": address, "template": "email_reset"}
        )
        assert asked.status_code == 200 and asked.json() is True
    bad_template = await shop.call(client, "PUT", "/rest/V1/customers/password", json={"email": email, "template": "x"})
    assert magento_error(bad_template, 400)["parameters"] == {"value": "x", "fieldName": "template"}
    message = mailbox.wait_for(email, after=before)
    code = re.search(r"^ {4}(\S+)", message.get_content(), re.MULTILINE).group(1)
    reset = "/rest/V1/customers/resetPassword"
    guess = await shop.call(
        client, "POST", reset, json={"email": email, "resetToken": "guess", "newPassword": "Third-pass3"}
    )
    assert magento_error(guess, 400)["message"] == "The password token is mismatched. Reset and try again."
    done = await shop.call(
        client, "POST", reset, json={"email": email, "resetToken": code, "newPassword": "Third-pass3"}
    )
    assert done.status_code == 200 and done.json() is True
    assert (await customer_token(client, shop, email, "Third-pass3")).status_code == 200


async def test_search_criteria(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    tag = unique("s")
    made = [
        await create_customer(client, shop, f"{tag}-{n}@example.com", lastname=name, dob=dob)
        for n, (name, dob) in enumerate([("Able", "1980-01-01"), ("Baker", "1990-01-01"), ("Charlie", "2000-01-01")])
    ]

    async def search(params: dict[str, object]) -> httpx.Response:
        return await shop.admin(client, "GET", "/rest/V1/customers/search", params=params)

    like = {
        "searchCriteria[filter_groups][0][filters][0][field]": "email",
        "searchCriteria[filter_groups][0][filters][0][value]": f"{tag}%",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "like",
    }
    page = await search(
        {
            **like,
            "searchCriteria[sortOrders][0][field]": "lastname",
            "searchCriteria[sortOrders][0][direction]": "DESC",
            "searchCriteria[pageSize]": 2,
            "searchCriteria[currentPage]": 1,
        }
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total_count"] == 3 and [c["lastname"] for c in body["items"]] == ["Charlie", "Baker"]
    assert body["items"][0]["addresses"][0]["customer_id"] == made[2]["id"]
    assert body["search_criteria"] == {
        "filter_groups": [{"filters": [{"field": "email", "value": f"{tag}%", "condition_type": "like"}]}],
        "sort_orders": [{"field": "lastname", "direction": "DESC"}],
        "page_size": 2,
        "current_page": 1,
    }
    second = (
        await search(
            {
                **like,
                "searchCriteria[sortOrders][0][field]": "lastname",
                "searchCriteria[sortOrders][0][direction]": "DESC",
                "searchCriteria[pageSize]": 2,
                "searchCriteria[currentPage]": 2,
            }
        )
    ).json()
    assert [c["lastname"] for c in second["items"]] == ["Able"]

    # Two filters in a group are OR'ed; groups are AND'ed; in, gteq, neq on typed columns.
    either = await search(
        {
            **like,
            "searchCriteria[filter_groups][1][filters][0][field]": "lastname",
            "searchCriteria[filter_groups][1][filters][0][value]": "able",
            "searchCriteria[filter_groups][1][filters][1][field]": "dob",
            "searchCriteria[filter_groups][1][filters][1][value]": "2000-01-01",
            "searchCriteria[filter_groups][1][filters][1][condition_type]": "gteq",
        }
    )
    assert sorted(c["lastname"] for c in either.json()["items"]) == ["Able", "Charlie"]
    ids = ",".join(str(c["id"]) for c in made[:2])
    within = await search(
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
            "searchCriteria[filter_groups][0][filters][0][value]": ids,
            "searchCriteria[filter_groups][0][filters][0][condition_type]": "in",
        }
    )
    assert sorted(c["id"] for c in within.json()["items"]) == sorted(c["id"] for c in made[:2])

    # Anything outside the whitelist is a 400, never SQL.
    bad = [
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "email; DROP TABLE tenants",
            "searchCriteria[filter_groups][0][filters][0][value]": "x",
        },
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "id",
            "searchCriteria[filter_groups][0][filters][0][value]": "1 OR 1=1",
        },
        {**like, "searchCriteria[filter_groups][0][filters][0][condition_type]": "regexp"},
        {**like, "searchCriteria[sortOrders][0][field]": "id", "searchCriteria[sortOrders][0][direction]": "DESC; --"},
        {"searchCriteria[pageSize]": 1001},
        {"searchCriteria[nonsense]": 1},
        {},
    ]
    for params in bad:
        magento_error(await search(params), 400)
    # A value is only ever a value.
    quoted = await search(
        {
            "searchCriteria[filter_groups][0][filters][0][field]": "email",
            "searchCriteria[filter_groups][0][filters][0][value]": "' OR '1'='1",
        }
    )
    assert quoted.json()["total_count"] == 0


async def test_pymagento_drives_tokens_customers_and_search(
    client: httpx.AsyncClient, service, shop: MagentoTenant
) -> None:
    """PyMagento (pip `pymagento`): a real Magento client, pointed at the tenant's host name."""
    tag = unique("pym")
    created = [await create_customer(client, shop, f"{tag}-{n}@example.com") for n in range(5)]

    def run() -> None:
        # PyMagento has no token call; its generic POST gets one. The placeholder bearer it must start
        # with is ignored on the anonymous token route, as Magento does.
        admin = Magento(token="placeholder", base_url=service.base_url, scope="default", batch_page_size=2)
        admin.headers["Host"] = shop.host
        token = admin.post_json_api(
            "/V1/integration/admin/token", json={"username": shop.admin_username, "password": shop.admin_password}
        )
        admin.headers["Authorization"] = f"Bearer {token}"

        query = make_search_query([[("email", f"{tag}-%", "like")]], sort_orders=[("entity_id", "DESC")])
        found = list(admin.get_customers(query=query))  # pages of 2 until total_count
        assert [c["id"] for c in found] == [c["id"] for c in reversed(created)]
        assert admin.get_customer(created[0]["id"]) == created[0]
        slim = list(admin.get_customers(query=query, fields="id,email"))  # ?fields=items[id,email],total_count
        assert slim == [{"id": c["id"], "email": c["email"]} for c in reversed(created)]
        assert admin.get_customer(2**31 - 1, none_on_404=True) is None
        views = admin.get_store_views()
        assert [v["code"] for v in views] == ["default", "admin"] and admin.get_websites()[1]["code"] == "default"

        shopper = Magento(token="placeholder", base_url=service.base_url, scope="default")
        shopper.headers["Host"] = shop.host
        customer_token = shopper.post_json_api(
            "/V1/integration/customer/token", json={"username": created[1]["email"], "password": PASSWORD}
        )
        shopper.headers["Authorization"] = f"Bearer {customer_token}"
        assert shopper.get_current_customer()["id"] == created[1]["id"]
        with pytest.raises(MagentoException) as refused:  # a customer does not read another customer
            shopper.get_customer(created[0]["id"])
        assert refused.value.parameters == {"resources": "Magento_Customer::customer"}
        assert shopper.change_current_customer_password(PASSWORD, "Changed-pass9") is True

    await asyncio.to_thread(run)
    assert (await customer_token(client, shop, created[1]["email"], "Changed-pass9")).status_code == 200


async def test_unknown_magento_routes_answer_magento_errors(client: httpx.AsyncClient, shop: MagentoTenant) -> None:
    response = await shop.admin(client, "GET", "/rest/V1/products")
    assert response.status_code == 404 and set(response.json()) == {"message", "parameters"}


async def test_customer_token_refused_when_a_second_factor_is_due(client: httpx.AsyncClient, platform_headers) -> None:
    """Magento's token route has no second step: a tenant that asks for 2FA gets no token from it."""
    shop = await make_magento_tenant(client, platform_headers, settings={"twoFactor": {"mode": "always"}})
    customer = await create_customer(client, shop)
    body = magento_error(await customer_token(client, shop, customer["email"]), 401)
    assert body["message"] == "This account signs in with a second factor, which this route cannot take."
    assert (
        magento_error(await customer_token(client, shop, customer["email"], "Wrong-password1"), 401)["message"]
        == SIGN_IN_FAILED
    )
