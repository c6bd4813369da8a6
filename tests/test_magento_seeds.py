"""The four Magento seed tutorials (shared/seeds/000 to 003), replayed as written.

Each test sends the tutorial's requests with the tutorial's payloads (copied verbatim into
magento_seeds.json, camelCase keys and all) to a tenant set up like the tutorial's store, found by
its host name as `<host>` would be, and compares our answers with the tutorial's answers field by
field. Ids and timestamps are the only things that differ: they are checked for their shape and for
pointing at each other instead (default_billing is the address's id, customer_id the customer's,
store_id the store view's...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.conftest import TenantFixture
from tests.magento_support import MagentoTenant, add_store_view, default_website_id, make_magento_tenant

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

SEEDS = json.loads((Path(__file__).parent / "magento_seeds.json").read_text(encoding="utf-8"))
SEED_000, SEED_001, SEED_003 = (
    SEEDS["000_d13a338900530532"],
    SEEDS["001_d5e1b24c133c1eae"],
    SEEDS["003_bfe49c79bc88fc8c"],
)
# 002_92f882eb662cfe4d is the same step as 003 (Magento 2.1 order tutorial), printed without its JSON.
TOKEN_REQUEST = SEED_000["customer_token_request"]
assert SEED_001["customer_token_request"] == SEED_003["customer_token_request"] == TOKEN_REQUEST

_CUSTOMER_IDS = {"id", "default_billing", "default_shipping", "store_id", "website_id"}
_ADDRESS_IDS = {"id", "customer_id"}


def assert_like_seed(
    ours: dict, seed: dict, *, store_id: int, website_id: int, extra: frozenset[str] = frozenset()
) -> None:
    """Every field of the seed's customer, equal; ids and times checked for shape and for what they point at."""
    assert set(ours) == set(seed) | extra, sorted(set(ours) ^ set(seed))
    for key, value in seed.items():
        if key in _CUSTOMER_IDS or key in ("created_at", "updated_at", "addresses"):
            continue
        assert ours[key] == value, (key, ours[key], value)
    assert TIMESTAMP.match(ours["created_at"]) and TIMESTAMP.match(ours["updated_at"]), ours
    assert isinstance(ours["id"], int) and ours["store_id"] == store_id and ours["website_id"] == website_id
    assert len(ours["addresses"]) == len(seed["addresses"])
    for our_address, seed_address in zip(ours["addresses"], seed["addresses"], strict=False):
        assert set(our_address) == set(seed_address), sorted(set(our_address) ^ set(seed_address))
        for key, value in seed_address.items():
            if key not in _ADDRESS_IDS:
                assert our_address[key] == value, (key, our_address[key], value)
        assert isinstance(our_address["id"], int) and our_address["customer_id"] == ours["id"]
    # As in the seed, the default addresses are named by id, as strings.
    assert ours["default_billing"] == ours["default_shipping"] == str(ours["addresses"][0]["id"])


async def _customer_token(client: httpx.AsyncClient, tenant: MagentoTenant, path: str) -> str:
    response = await tenant.call(client, "POST", path, json=TOKEN_REQUEST)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    token = response.json()
    assert isinstance(token, str) and response.text == json.dumps(token)  # a bare JSON string, as in the seeds
    return token


async def _kibo_sees(client: httpx.AsyncClient, tenant: TenantFixture, customer: dict, site_id: int) -> None:
    """The tutorials' "verify this step": the same email and password log in to the storefront (here,
    Kibo's API), and the address book has the default billing and shipping address."""
    headers = {**tenant.app_headers, "x-vol-site": str(site_id)}
    login = await client.post("/api/commerce/customer/authtickets", json=TOKEN_REQUEST, headers=headers)
    assert login.status_code == 200, login.text
    account = login.json()["customerAccount"]
    assert account["id"] == customer["id"] and account["firstName"] == "Jane"
    contacts = await client.get(f"/api/commerce/customer/accounts/{customer['id']}/contacts", headers=headers)
    assert contacts.status_code == 200, contacts.text
    [contact] = contacts.json()["items"]
    assert contact["id"] == customer["addresses"][0]["id"]
    assert contact["types"] == [{"name": "Billing", "isPrimary": True}, {"name": "Shipping", "isPrimary": True}]
    assert contact["address"]["stateOrProvince"] == "NY" and contact["address"]["countryCode"] == "US"


async def _me(client: httpx.AsyncClient, tenant: MagentoTenant, token: str) -> dict:
    response = await tenant.call(client, "GET", "/rest/V1/customers/me", token)
    assert response.status_code == 200, response.text
    return response.json()


async def _create_like_seed(
    client: httpx.AsyncClient, tenant: MagentoTenant, path: str, request: dict, response: dict, **expected: object
) -> dict:
    """The seed's create-customer call with an admin token, answered like the seed's response."""
    created = await tenant.admin(client, "POST", path, json=request)
    assert created.status_code == 200, created.text
    assert_like_seed(created.json(), response, **expected)  # type: ignore[arg-type]
    return created.json()


async def test_seed_000_create_customer_and_token_in_the_default_store_view(
    client: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    tenant = await make_magento_tenant(client, platform_headers)
    customer = await _create_like_seed(
        client,
        tenant,
        "/rest/default/V1/customers",
        SEED_000["create_customer_request"],
        SEED_000["create_customer_response"],
        store_id=tenant.tenant.default_site_id,
        website_id=await default_website_id(client, tenant),
    )

    token = await _customer_token(client, tenant, "/rest/default/V1/integration/customer/token")
    assert await _me(client, tenant, token) == customer
    await _kibo_sees(client, tenant.tenant, customer, tenant.tenant.default_site_id)


async def test_seed_001_store_views_then_customer_and_token_in_the_us_store(
    client: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    tenant = await make_magento_tenant(client, platform_headers)
    us = await add_store_view(client, tenant, "us", "US Website", "US Store View")
    de = await add_store_view(client, tenant, "de", "Germany Website", "Germany Store View")
    default_website = await default_website_id(client, tenant)
    ids = {  # the seed's ids → ours
        "default": (tenant.tenant.default_site_id, default_website),
        "admin": (0, 0),
        "us": (us["site_id"], us["website_id"]),
        "de": (de["site_id"], de["website_id"]),
    }

    views = await tenant.admin(client, "GET", "/rest/all/V1/store/storeViews")
    assert views.status_code == 200, views.text
    expected = [
        {**view, "id": ids[view["code"]][0], "website_id": ids[view["code"]][1], "store_group_id": ids[view["code"]][1]}
        for view in SEED_001["store_views_response"]
    ]
    assert views.json() == expected

    # "change the id parameter to the store_id parameter": the tutorial's 2s are the us store view's ids.
    request = json.loads(json.dumps(SEED_001["create_customer_request"]))
    request["customer"]["store_id"], request["customer"]["website_id"] = ids["us"]
    customer = await _create_like_seed(
        client,
        tenant,
        "/rest/us/V1/customers",
        request,
        SEED_001["create_customer_response"],
        store_id=us["site_id"],
        website_id=us["website_id"],
    )

    token = await _customer_token(client, tenant, "/rest/us/V1/integration/customer/token")
    assert await _me(client, tenant, token) == customer
    await _kibo_sees(client, tenant.tenant, customer, us["site_id"])

    # Per-website account sharing: the same email in the default website is another customer.
    other = await tenant.admin(client, "POST", "/rest/default/V1/customers", json=SEED_000["create_customer_request"])
    assert other.status_code == 200, other.text
    assert other.json()["id"] != customer["id"] and other.json()["website_id"] == default_website
    default_token = await _customer_token(client, tenant, "/rest/default/V1/integration/customer/token")
    assert (await _me(client, tenant, default_token))["id"] == other.json()["id"]
    assert (await _me(client, tenant, token))["id"] == customer["id"]
    # ...and the same email twice in one website is refused, as Magento does.
    again = await tenant.admin(client, "POST", "/rest/us/V1/customers", json=request)
    assert again.status_code == 400
    assert again.json() == {
        "message": "A customer with the same email address already exists in an associated website.",
        "parameters": [],
    }


async def test_seed_002_create_customer_then_token(client: httpx.AsyncClient, platform_headers: dict[str, str]) -> None:
    """002 shows no JSON: the same step as 003 against /rest/default; Magento assigns an id, the token is a string."""
    tenant = await make_magento_tenant(client, platform_headers)
    created = await tenant.admin(client, "POST", "/rest/default/V1/customers", json=SEED_003["create_customer_request"])
    assert created.status_code == 200, created.text
    assert isinstance(created.json()["id"], int)
    token = await _customer_token(client, tenant, "/rest/default/V1/integration/customer/token")
    assert (await _me(client, tenant, token))["email"] == "jdoe@example.com"


async def test_seed_003_create_customer_and_token_without_store_code(
    client: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    tenant = await make_magento_tenant(client, platform_headers)
    # Magento 2.1 had no extension_attributes; later versions (seeds 000, 001) add is_subscribed.
    customer = await _create_like_seed(
        client,
        tenant,
        "/rest/V1/customers",
        SEED_003["create_customer_request"],
        SEED_003["create_customer_response"],
        store_id=tenant.tenant.default_site_id,
        website_id=await default_website_id(client, tenant),
        extra=frozenset({"extension_attributes"}),
    )
    assert customer["extension_attributes"] == {"is_subscribed": False}
    token = await _customer_token(client, tenant, "/rest/V1/integration/customer/token")
    assert await _me(client, tenant, token) == customer
