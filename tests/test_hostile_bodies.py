"""Hostile request bodies on every route that reads one: a 4xx in the surface's own error shape, never a 500.

The routes come from openapi.yaml (every operation with a request body, the OAuth token endpoint and
the RFC 7662/7009 forms included), so a new route is covered the day it is added. Each call carries
valid credentials for its surface, so the body is what is judged.
"""

from __future__ import annotations

import re

import httpx
import pytest
import yaml

from tests.conftest import ROOT, TenantFixture, assert_kibo_error, assert_problem, unique

DEEP = b"[" * 10_000 + b"]" * 10_000
HOSTILE_JSON = {
    "not UTF-8": b'{"name": "\xff\xfe caf\xe9"}',
    "lone surrogate": b'{"name": "\\ud800"}',
    "NUL": b'{"name": "a\\u0000b", "username": "a\\u0000b"}',
    "number too large": b'{"name": 1e400, "id": 123456789012345678901234567890}',
    "nested ten thousand deep": DEEP,
    "truncated": b'{"name": ',
    "repeated keys": b'{"name": "a", "name": "b", "username": "a", "username": "b"}',
    "empty": b"",
}


def _body_routes() -> dict[tuple[str, str], set[str]]:
    """Every operation with a request body, with the media types it accepts."""
    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    return {
        (method.upper(), path): set(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }


MEDIA_TYPES = _body_routes()
ROUTES = list(MEDIA_TYPES)


@pytest.fixture
async def credentials(client: httpx.AsyncClient, tenant: TenantFixture, platform_headers: dict[str, str]) -> dict:
    """Headers for each surface, and ids for the path parameters."""
    email = f"{unique('hostile')}@example.com"
    signup = await client.post(
        "/api/commerce/customer/accounts/Add-Account-And-Login",
        json={"account": {"emailAddress": email}, "password": "a perfectly good passphrase"},
        headers=tenant.app_headers,
    )
    assert signup.status_code == 200, signup.text
    ticket = signup.json()
    magento = {"x-vol-tenant": str(tenant.id)}
    customer_token = await client.post(
        "/rest/V1/integration/customer/token",
        json={"username": email, "password": "a perfectly good passphrase"},
        headers=magento,
    )
    assert customer_token.status_code == 200, customer_token.text
    return {
        "tenant": tenant,
        "account_id": ticket["customerAccount"]["id"],
        "admin": platform_headers,
        "app": tenant.app_headers,
        "customer": {**tenant.app_headers, "x-vol-user-claims": ticket["accessToken"]},
        "magento_admin": {**magento, **tenant.admin_headers},
        "magento_customer": {**magento, "Authorization": f"Bearer {customer_token.json()}"},
        "basic": httpx.BasicAuth(tenant.client_id, tenant.client_secret),
    }


def _url(path: str, c: dict) -> str:
    values = {
        "tenant_id": c["tenant"].id, "account_id": c["account_id"], "customer_id": c["account_id"],
        "site_id": c["tenant"].default_site_id, "contact_id": 1, "application_id": 1, "admin_id": 1,
        "code": "default", "store_code": "default", "endpoint_id": 1, "delivery_id": 1, "job_id": 1,
    }  # fmt: skip
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def _headers(path: str, c: dict) -> dict[str, str]:
    if path.startswith("/admin/"):
        return c["admin"]
    if path.startswith("/rest/"):
        return c["magento_customer"] if "/customers/me" in path else c["magento_admin"]
    if path.startswith("/api/commerce/customer/accounts/current"):
        return c["customer"]
    return c["app"] if path.startswith("/api/") else {}


def _check_shape(path: str, response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    body = response.json()
    if path.startswith("/api/"):
        assert isinstance(body["errorCode"], str) and body["errorCode"], body
    elif path.startswith("/rest/"):
        assert isinstance(body["message"], str) and "parameters" in body, body
    else:
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        assert isinstance(body["code"], str) and body["code"], body


async def _send_to_every_route(
    client: httpx.AsyncClient,
    credentials: dict,
    body: bytes,
    content_type: str | None,
    *,
    status: int | None = None,
    routes: list[tuple[str, str]] = ROUTES,
) -> None:
    """`body` to each route with valid credentials: each answers a 4xx (or `status`) in its surface's shape."""
    failures = []
    for method, path in routes:
        headers = dict(_headers(path, credentials))
        if content_type is not None:
            headers["content-type"] = content_type
        auth = credentials["basic"] if "/oauth2/" in path else None
        response = await client.request(method, _url(path, credentials), content=body, headers=headers, auth=auth)
        try:
            assert status in (None, response.status_code), (response.status_code, response.text[:300])
            _check_shape(path, response)
        except (AssertionError, ValueError, KeyError) as problem:
            failures.append(f"{method} {path}: {problem}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("kind", list(HOSTILE_JSON))
async def test_hostile_json_bodies_get_a_4xx_on_every_route(
    client: httpx.AsyncClient, credentials: dict, kind: str
) -> None:
    await _send_to_every_route(client, credentials, HOSTILE_JSON[kind], "application/json")


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
async def test_an_unreadable_body_with_a_wrong_or_missing_content_type_gets_a_4xx(
    client: httpx.AsyncClient, credentials: dict, content_type: str | None
) -> None:
    await _send_to_every_route(client, credentials, b"%zz%ff=\xff", content_type)


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
async def test_a_json_body_that_does_not_say_it_is_json_gets_a_415(
    client: httpx.AsyncClient, credentials: dict, content_type: str | None
) -> None:
    body = b'{"emailAddress": "x@example.com", "username": "x@example.com", "password": "a passphrase"}'
    # Forms (RFC 7662/7009), and JSON or a form on the OAuth token route, answer in OAuth's own terms.
    json_routes = [route for route in ROUTES if MEDIA_TYPES[route] == {"application/json"}]
    await _send_to_every_route(client, credentials, body, content_type, status=415, routes=json_routes)


async def test_a_body_that_repeats_a_key_is_refused_before_anything_reads_it(
    client: httpx.AsyncClient, credentials: dict, platform_admin: tuple[str, str]
) -> None:
    """A filter in front that reads the first of two passwords and a service that reads the last would disagree on
    what was sent; Gatehouse refuses such a body on every surface, also where the repeat is nested."""
    tenant: TenantFixture = credentials["tenant"]
    email = f"{unique('repeat')}@example.com"
    signup = (
        b'{"account": {"emailAddress": "%s", "emailAddress": "other-%s"}, "password": "a perfectly good passphrase"}'
        % (email.encode(), email.encode())
    )
    json_headers = {"content-type": "application/json"}
    nested = await client.post(
        "/api/commerce/customer/accounts/Add-Account-And-Login",
        content=signup,
        headers={**tenant.app_headers, **json_headers},
    )
    assert_kibo_error(nested, 400, "MALFORMED_REQUEST")
    assert "emailAddress" in nested.json()["message"]

    kibo_login = await client.post(
        "/api/commerce/customer/authtickets",
        content=b'{"username": "x@example.com", "password": "wrong", "password": "a perfectly good passphrase"}',
        headers={**tenant.app_headers, **json_headers},
    )
    assert_kibo_error(kibo_login, 400, "MALFORMED_REQUEST")

    magento = await client.post(
        "/rest/V1/integration/customer/token",
        content=b'{"username": "x@example.com", "username": "y@example.com", "password": "p"}',
        headers={"x-vol-tenant": str(tenant.id), **json_headers},
    )
    assert magento.status_code == 400 and "username" in magento.json()["message"], magento.text
    assert "parameters" in magento.json()

    admin = await client.post(
        "/admin/v1/token",
        content=b'{"username": "%s", "password": "%s", "password": "%s"}'
        % (platform_admin[0].encode(), platform_admin[1].encode(), platform_admin[1].encode()),
        headers=json_headers,
    )
    assert_problem(admin, 400, "MALFORMED_REQUEST")


async def test_a_body_field_named_like_a_capability_is_judged_as_the_body(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Litestar takes a failing body field for a failing dependency (a 500) when the two share a name, as an
    account's `contacts` and the contacts capability do."""
    too_many = await client.post(
        "/api/commerce/customer/accounts",
        json={"emailAddress": f"{unique('many')}@example.com", "contacts": [{}] * 101},
        headers=tenant.app_headers,
    )
    body = assert_kibo_error(too_many, 400, "VALIDATION_FAILED")
    assert [item["name"] for item in body["items"]] == ["contacts"], body
