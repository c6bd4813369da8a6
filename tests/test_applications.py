"""Applications: the admin API that manages them, Kibo app auth tickets, and app auth on `/api` routes."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis

from service.platform import keyspace
from tests.conftest import TenantFixture, assert_kibo_error, assert_problem, bearer

OAUTH = "/api/platform/applications/authtickets/oauth"
TICKETS = "/api/platform/applications/authtickets"
KIBO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def apps_url(tenant: TenantFixture) -> str:
    return f"/admin/v1/tenants/{tenant.id}/applications"


async def create_app(client: httpx.AsyncClient, tenant: TenantFixture, **body: object) -> dict:
    response = await client.post(
        apps_url(tenant),
        json={"name": "app", "behaviors": ["customer:accounts:read"], **body},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def oauth_ticket(client: httpx.AsyncClient, client_id: str, secret: str) -> dict:
    response = await client.post(
        OAUTH, json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def app_tenant(client: httpx.AsyncClient, tenant_id: int, access_token: str, **headers: str) -> httpx.Response:
    return await client.get(f"/api/platform/tenants/{tenant_id}", headers={**bearer(access_token), **headers})


def without_correlation(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "additionalErrorData"}


# --- admin API ----------------------------------------------------------------------------------


async def test_create_returns_secret_once_and_reads_never_do(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    created = await create_app(
        client, tenant, name="pos", behaviors=["tokens:introspect", "customer:accounts:read", "tokens:introspect"]
    )
    secret = created["clientSecret"]
    assert secret and created["clientId"] and created["isEnabled"] is True
    assert created["tenantId"] == tenant.id and created["name"] == "pos"
    assert created["behaviors"] == ["customer:accounts:read", "tokens:introspect"]  # sorted, no duplicates

    got = await client.get(f"{apps_url(tenant)}/{created['id']}", headers=tenant.viewer_headers)
    assert got.status_code == 200
    assert "clientSecret" not in got.json() and secret not in got.text
    assert got.json() == {k: v for k, v in created.items() if k != "clientSecret"}

    listed = await client.get(apps_url(tenant), headers=tenant.viewer_headers)
    assert listed.status_code == 200
    assert secret not in listed.text and tenant.client_secret not in listed.text
    assert all("clientSecret" not in app for app in listed.json())
    # The fixture's application and this one, in creation order.
    assert [a["clientId"] for a in listed.json()] == [tenant.client_id, created["clientId"]]

    # The secret works.
    await oauth_ticket(client, created["clientId"], secret)


async def test_list_is_per_tenant(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine = await create_app(client, tenant)
    theirs = (await client.get(apps_url(other_tenant), headers=other_tenant.admin_headers)).json()
    assert mine["clientId"] not in [a["clientId"] for a in theirs]
    assert {a["tenantId"] for a in theirs} == {other_tenant.id}
    # Another tenant's application is not found through your tenant.
    foreign = await client.get(f"{apps_url(tenant)}/{theirs[0]['id']}", headers=tenant.admin_headers)
    assert_problem(foreign, 404, "APPLICATION_NOT_FOUND")
    patched = await client.patch(
        f"{apps_url(tenant)}/{theirs[0]['id']}", json={"name": "stolen"}, headers=tenant.admin_headers
    )
    assert_problem(patched, 404, "APPLICATION_NOT_FOUND")
    assert (await client.get(f"{apps_url(other_tenant)}/{theirs[0]['id']}", headers=other_tenant.admin_headers)).json()[
        "name"
    ] != "stolen"


async def test_patch_name_and_behaviors(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    app = await create_app(client, tenant, name="before", behaviors=["customer:accounts:read"])
    url = f"{apps_url(tenant)}/{app['id']}"

    renamed = await client.patch(url, json={"name": "after"}, headers=tenant.admin_headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "after" and renamed.json()["behaviors"] == ["customer:accounts:read"]
    assert "clientSecret" not in renamed.json()

    changed = await client.patch(
        url, json={"behaviors": ["customer:authtickets", "customer:accounts:write"]}, headers=tenant.admin_headers
    )
    assert changed.status_code == 200
    assert changed.json()["behaviors"] == ["customer:accounts:write", "customer:authtickets"]
    assert changed.json()["name"] == "after"

    cleared = await client.patch(url, json={"behaviors": []}, headers=tenant.admin_headers)
    assert cleared.json()["behaviors"] == []
    now = (await client.get(url, headers=tenant.admin_headers)).json()
    assert now["name"] == "after" and now["behaviors"] == [] and now["isEnabled"] is True

    assert_problem(await client.patch(url, json={"name": "viewer"}, headers=tenant.viewer_headers), 403)
    assert_problem(
        await client.patch(url, json={"name": "   "}, headers=tenant.admin_headers), 400, "VALIDATION_FAILED"
    )
    assert (await client.get(url, headers=tenant.admin_headers)).json()["name"] == "after"


async def test_disabling_ends_tickets_and_reenabling_does_not_revive_them(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    app = await create_app(client, tenant)
    url = f"{apps_url(tenant)}/{app['id']}"
    ticket = await oauth_ticket(client, app["clientId"], app["clientSecret"])
    assert (await app_tenant(client, tenant.id, ticket["access_token"])).status_code == 200

    disabled = await client.patch(url, json={"isEnabled": False}, headers=tenant.admin_headers)
    assert disabled.status_code == 200 and disabled.json()["isEnabled"] is False
    assert_kibo_error(await app_tenant(client, tenant.id, ticket["access_token"]), 401, "INVALID_APP_TOKEN")
    refused = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "client_id": app["clientId"], "client_secret": app["clientSecret"]},
    )
    assert_kibo_error(refused, 401, "INVALID_CLIENT")

    enabled = await client.patch(url, json={"isEnabled": True}, headers=tenant.admin_headers)
    assert enabled.status_code == 200 and enabled.json()["isEnabled"] is True
    # The tickets issued before the application was disabled stay dead...
    assert_kibo_error(await app_tenant(client, tenant.id, ticket["access_token"]), 401, "INVALID_APP_TOKEN")
    old_refresh = await client.post(
        OAUTH, json={"grant_type": "refresh_token", "refresh_token": ticket["refresh_token"]}
    )
    assert_kibo_error(old_refresh, 401, "INVALID_REFRESH_TOKEN")
    # ...while the same secret gets new ones.
    fresh = await oauth_ticket(client, app["clientId"], app["clientSecret"])
    assert (await app_tenant(client, tenant.id, fresh["access_token"])).status_code == 200
    # Other applications of the tenant were never affected.
    assert (await client.get(f"/api/platform/tenants/{tenant.id}", headers=tenant.app_headers)).status_code == 200


async def test_rotate_secret(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    app = await create_app(client, tenant)
    url = f"{apps_url(tenant)}/{app['id']}"
    ticket = await oauth_ticket(client, app["clientId"], app["clientSecret"])

    assert_problem(await client.post(f"{url}/rotate-secret", headers=tenant.viewer_headers), 403)
    assert (
        await app_tenant(client, tenant.id, ticket["access_token"])
    ).status_code == 200  # the viewer changed nothing

    rotated = await client.post(f"{url}/rotate-secret", headers=tenant.admin_headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["clientSecret"]
    assert new_secret and new_secret != app["clientSecret"]
    assert rotated.json()["clientId"] == app["clientId"]
    assert new_secret not in (await client.get(url, headers=tenant.admin_headers)).text

    old = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "client_id": app["clientId"], "client_secret": app["clientSecret"]},
    )
    assert_kibo_error(old, 401, "INVALID_CLIENT")
    assert_kibo_error(await app_tenant(client, tenant.id, ticket["access_token"]), 401, "INVALID_APP_TOKEN")
    refreshed = await client.post(OAUTH, json={"grant_type": "refresh_token", "refresh_token": ticket["refresh_token"]})
    assert_kibo_error(refreshed, 401, "INVALID_REFRESH_TOKEN")

    new = await oauth_ticket(client, app["clientId"], new_secret)
    assert (await app_tenant(client, tenant.id, new["access_token"])).status_code == 200

    missing = await client.post(f"{apps_url(tenant)}/2147483000/rotate-secret", headers=tenant.admin_headers)
    assert_problem(missing, 404, "APPLICATION_NOT_FOUND")


async def test_delete(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    app = await create_app(client, tenant)
    url = f"{apps_url(tenant)}/{app['id']}"
    ticket = await oauth_ticket(client, app["clientId"], app["clientSecret"])

    assert_problem(await client.delete(url, headers=tenant.viewer_headers), 403)
    deleted = await client.delete(url, headers=tenant.admin_headers)
    assert deleted.status_code == 204
    assert_problem(await client.get(url, headers=tenant.admin_headers), 404, "APPLICATION_NOT_FOUND")
    assert_problem(await client.delete(url, headers=tenant.admin_headers), 404, "APPLICATION_NOT_FOUND")
    assert app["id"] not in [a["id"] for a in (await client.get(apps_url(tenant), headers=tenant.admin_headers)).json()]

    assert_kibo_error(await app_tenant(client, tenant.id, ticket["access_token"]), 401, "INVALID_APP_TOKEN")
    signed_in = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "client_id": app["clientId"], "client_secret": app["clientSecret"]},
    )
    assert_kibo_error(signed_in, 401, "INVALID_CLIENT")
    refreshed = await client.post(OAUTH, json={"grant_type": "refresh_token", "refresh_token": ticket["refresh_token"]})
    assert_kibo_error(refreshed, 401, "INVALID_REFRESH_TOKEN")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "behaviors": ["customer:everything"]},
        {"name": "x", "behaviors": "customer:accounts:read"},
        {"name": "x", "colour": "red"},
        {"name": ""},
        {"behaviors": []},
        {"name": "x" * 201},
    ],
)
async def test_create_validation(client: httpx.AsyncClient, tenant: TenantFixture, body: dict) -> None:
    before = (await client.get(apps_url(tenant), headers=tenant.admin_headers)).json()
    assert_problem(
        await client.post(apps_url(tenant), json=body, headers=tenant.admin_headers), 400, "VALIDATION_FAILED"
    )
    assert (await client.get(apps_url(tenant), headers=tenant.admin_headers)).json() == before


@pytest.mark.parametrize(
    "body",
    [{"behaviors": ["customer:everything"]}, {"isEnabled": "no"}, {"clientSecret": "mine"}, {"generation": 0}],
)
async def test_update_validation(client: httpx.AsyncClient, tenant: TenantFixture, body: dict) -> None:
    app = await create_app(client, tenant)
    url = f"{apps_url(tenant)}/{app['id']}"
    assert_problem(await client.patch(url, json=body, headers=tenant.admin_headers), 400, "VALIDATION_FAILED")
    assert (await client.get(url, headers=tenant.admin_headers)).json() == {
        k: v for k, v in app.items() if k != "clientSecret"
    }
    await oauth_ticket(client, app["clientId"], app["clientSecret"])


# --- OAuth token endpoint -----------------------------------------------------------------------


def assert_oauth_ticket(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"] and body["refresh_token"] and body["access_token"] != body["refresh_token"]
    assert 0 < body["expires_in"] <= body["refresh_token_expires_in"]
    return body


async def test_oauth_client_credentials_as_json_form_and_basic(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    as_json = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret},
    )
    as_form = await client.post(
        OAUTH,
        data={"grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret},
    )
    assert as_form.request.headers["content-type"] == "application/x-www-form-urlencoded"
    as_basic = await client.post(
        OAUTH, data={"grant_type": "client_credentials"}, auth=(tenant.client_id, tenant.client_secret)
    )
    basic_with_json = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "scope": "ignored"},
        auth=(tenant.client_id, tenant.client_secret),
    )
    tokens = set()
    for response in (as_json, as_form, as_basic, basic_with_json):
        body = assert_oauth_ticket(response)
        tokens.add(body["access_token"])
        assert (await app_tenant(client, tenant.id, body["access_token"])).status_code == 200
    assert len(tokens) == 4  # every sign-in is a new ticket

    # Basic and body credentials that disagree are refused.
    both = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "client_id": "someone-else"},
        auth=(tenant.client_id, tenant.client_secret),
    )
    body = assert_kibo_error(both, 400, "INVALID_REQUEST")
    assert body["error"] == "invalid_request"
    malformed = await client.post(
        OAUTH, json={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!not-base64"}
    )
    assert assert_kibo_error(malformed, 400, "INVALID_REQUEST")["error"] == "invalid_request"


async def test_oauth_wrong_secret_and_unknown_client_look_the_same(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    wrong_secret = await client.post(
        OAUTH, json={"grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": "ghs_wrong"}
    )
    unknown_client = await client.post(
        OAUTH,
        json={"grant_type": "client_credentials", "client_id": "gh.1.nobody", "client_secret": tenant.client_secret},
    )
    basic_wrong = await client.post(OAUTH, data={"grant_type": "client_credentials"}, auth=(tenant.client_id, "nope"))
    bodies = []
    for response in (wrong_secret, unknown_client, basic_wrong):
        body = assert_kibo_error(response, 401, "INVALID_CLIENT")
        assert body["error"] == "invalid_client" and body["error_description"]
        assert response.headers["cache-control"] == "no-store"
        assert tenant.client_id not in response.text and tenant.client_secret not in response.text
        bodies.append(without_correlation(body))
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.mark.parametrize(
    ("parameters", "status", "error", "code"),
    [
        ({}, 400, "invalid_request", "INVALID_REQUEST"),
        ({"grant_type": ""}, 400, "invalid_request", "INVALID_REQUEST"),
        (
            {"grant_type": "password", "username": "u", "password": "p"},
            400,
            "unsupported_grant_type",
            "UNSUPPORTED_GRANT_TYPE",
        ),
        ({"grant_type": "authorization_code", "code": "x"}, 400, "unsupported_grant_type", "UNSUPPORTED_GRANT_TYPE"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request", "INVALID_REQUEST"),
        ({"grant_type": "client_credentials", "client_id": "x"}, 400, "invalid_request", "INVALID_REQUEST"),
        ({"grant_type": "refresh_token"}, 400, "invalid_request", "INVALID_REQUEST"),
        (
            {"grant_type": "refresh_token", "refresh_token": "gh_rt_unknown"},
            401,
            "invalid_grant",
            "INVALID_REFRESH_TOKEN",
        ),
    ],
)
async def test_oauth_request_errors(
    client: httpx.AsyncClient, parameters: dict, status: int, error: str, code: str
) -> None:
    for response in (await client.post(OAUTH, json=parameters), await client.post(OAUTH, data=parameters)):
        body = assert_kibo_error(response, status, code)
        assert body["error"] == error, body
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"grant_type": ', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"grant_type": 5}', "application/json"),
    ],
)
async def test_oauth_malformed_bodies(client: httpx.AsyncClient, content: bytes, content_type: str) -> None:
    response = await client.post(OAUTH, content=content, headers={"content-type": content_type})
    assert assert_kibo_error(response, 400, "INVALID_REQUEST")["error"] == "invalid_request"


async def test_oauth_refresh_rotates_and_refresh_tokens_are_single_use(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    first = await oauth_ticket(client, tenant.client_id, tenant.client_secret)
    second = assert_oauth_ticket(
        await client.post(OAUTH, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    )
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert (await app_tenant(client, tenant.id, second["access_token"])).status_code == 200
    # The refreshed-away access token ends with its refresh token.
    assert_kibo_error(await app_tenant(client, tenant.id, first["access_token"]), 401, "INVALID_APP_TOKEN")

    replay = await client.post(OAUTH, json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert assert_kibo_error(replay, 401, "INVALID_REFRESH_TOKEN")["error"] == "invalid_grant"
    # The access token cannot be used as a refresh token.
    swapped = await client.post(OAUTH, json={"grant_type": "refresh_token", "refresh_token": second["access_token"]})
    assert_kibo_error(swapped, 401, "INVALID_REFRESH_TOKEN")

    third = assert_oauth_ticket(
        await client.post(OAUTH, json={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    )
    assert (await app_tenant(client, tenant.id, third["access_token"])).status_code == 200


# --- Kibo's legacy ticket routes ----------------------------------------------------------------


def assert_kibo_ticket(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"accessToken", "accessTokenExpiration", "refreshToken", "refreshTokenExpiration"}
    now = datetime.now(UTC)
    access = datetime.strptime(body["accessTokenExpiration"], KIBO_TIME).replace(tzinfo=UTC)
    refresh = datetime.strptime(body["refreshTokenExpiration"], KIBO_TIME).replace(tzinfo=UTC)
    # UTC, in the future, and the refresh token outlives the access token.
    assert now < access <= refresh < now + timedelta(days=366)
    return body


async def test_legacy_ticket_refresh_and_delete(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    created = await client.post(TICKETS, json={"applicationId": tenant.client_id, "sharedSecret": tenant.client_secret})
    ticket = assert_kibo_ticket(created)
    assert (await app_tenant(client, tenant.id, ticket["accessToken"])).status_code == 200

    refreshed = await client.put(f"{TICKETS}/refresh-ticket", json={"refreshToken": ticket["refreshToken"]})
    renewed = assert_kibo_ticket(refreshed)
    assert renewed["accessToken"] != ticket["accessToken"] and renewed["refreshToken"] != ticket["refreshToken"]
    assert (await app_tenant(client, tenant.id, renewed["accessToken"])).status_code == 200
    assert_kibo_error(await app_tenant(client, tenant.id, ticket["accessToken"]), 401)
    spent = await client.put(f"{TICKETS}/refresh-ticket", json={"refreshToken": ticket["refreshToken"]})
    assert_kibo_error(spent, 401, "INVALID_REFRESH_TOKEN")

    deleted = await client.delete(f"{TICKETS}/{renewed['refreshToken']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_kibo_error(await app_tenant(client, tenant.id, renewed["accessToken"]), 401, "INVALID_APP_TOKEN")
    after_delete = await client.put(f"{TICKETS}/refresh-ticket", json={"refreshToken": renewed["refreshToken"]})
    assert_kibo_error(after_delete, 401, "INVALID_REFRESH_TOKEN")
    # Deleting again, or deleting a token that never existed, reveals nothing.
    assert (await client.delete(f"{TICKETS}/{renewed['refreshToken']}")).status_code == 204
    assert (await client.delete(f"{TICKETS}/gh_rt_never-issued")).status_code == 204
    # The fixture's own ticket was not touched.
    assert (await client.get(f"/api/platform/tenants/{tenant.id}", headers=tenant.app_headers)).status_code == 200


async def test_tickets_issued_before_tokens_named_their_application_still_work(
    client: httpx.AsyncClient, tenant: TenantFixture, servers
) -> None:
    """A ticket of the previous version (`gh_at_<random>`, under keys without the application's hash tag) works
    until it expires, and its refresh token gives a ticket of today's form."""
    ticket = assert_kibo_ticket(
        await client.post(TICKETS, json={"applicationId": tenant.client_id, "sharedSecret": tenant.client_secret})
    )
    application_id = int(ticket["accessToken"].removeprefix("gh_at_").split(".")[0])
    old_access, old_refresh = f"gh_at_{secrets.token_urlsafe(32)}", f"gh_rt_{secrets.token_urlsafe(32)}"
    redis = Redis.from_url(servers.redis_url, decode_responses=True)
    try:
        record = await redis.get(keyspace.app_token_key(application_id, _digest(ticket["accessToken"])))
        assert record is not None
        await redis.set(f"gh:apptok:{_digest(old_access)}", record, ex=600)
        old_refresh_record = {"app": application_id, "gen": json.loads(record)["gen"], "at": _digest(old_access)}
        await redis.set(f"gh:apprt:{_digest(old_refresh)}", json.dumps(old_refresh_record), ex=600)
    finally:
        await redis.aclose()
    assert (await app_tenant(client, tenant.id, old_access)).status_code == 200
    renewed = assert_kibo_ticket(await client.put(f"{TICKETS}/refresh-ticket", json={"refreshToken": old_refresh}))
    assert renewed["accessToken"].startswith(f"gh_at_{application_id}.")
    assert (await app_tenant(client, tenant.id, renewed["accessToken"])).status_code == 200
    assert_kibo_error(await app_tenant(client, tenant.id, old_access), 401, "INVALID_APP_TOKEN")  # spent with it


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    "body",
    [
        {"applicationId": "a", "sharedSecret": "b", "extra": 1},
        {"applicationId": "a"},
        {"applicationId": 5, "sharedSecret": "b"},
        {"applicationId": "", "sharedSecret": "b"},
        ["applicationId", "sharedSecret"],
    ],
)
async def test_legacy_ticket_bad_bodies(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post(TICKETS, json=body)
    assert_kibo_error(response, 400, "VALIDATION_FAILED")
    assert "application/problem+json" not in response.headers["content-type"]


async def test_legacy_ticket_wrong_credentials(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    wrong = await client.post(TICKETS, json={"applicationId": tenant.client_id, "sharedSecret": "ghs_wrong"})
    unknown = await client.post(TICKETS, json={"applicationId": "gh.0.unknown", "sharedSecret": tenant.client_secret})
    assert without_correlation(assert_kibo_error(wrong, 401, "INVALID_CLIENT")) == without_correlation(
        assert_kibo_error(unknown, 401, "INVALID_CLIENT")
    )
    bad_refresh = await client.put(f"{TICKETS}/refresh-ticket", json={"refreshToken": "x", "more": True})
    assert_kibo_error(bad_refresh, 400, "VALIDATION_FAILED")


# --- application auth on /api routes ------------------------------------------------------------


async def test_app_token_as_bearer_or_app_claims(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    token = tenant.app_headers["Authorization"].removeprefix("Bearer ")
    url = f"/api/platform/tenants/{tenant.id}"
    by_bearer = await client.get(url, headers=tenant.app_headers)
    by_claims = await client.get(url, headers={"x-vol-app-claims": token})
    assert by_bearer.status_code == 200 and by_claims.status_code == 200, (by_bearer.text, by_claims.text)
    assert by_bearer.json() == by_claims.json()
    body = by_bearer.json()
    assert body["id"] == tenant.id and body["isDevTenant"] is False
    assert [(s["id"], s["tenantId"], s["isDefault"]) for s in body["sites"]] == [
        (tenant.default_site_id, tenant.id, True)
    ]

    matching = await client.get(
        url, headers={**tenant.app_headers, "x-vol-tenant": str(tenant.id), "x-vol-site": str(tenant.default_site_id)}
    )
    assert matching.status_code == 200, matching.text


async def test_app_auth_failures(client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture) -> None:
    url = f"/api/platform/tenants/{tenant.id}"
    token = tenant.app_headers["Authorization"].removeprefix("Bearer ")

    anonymous = await client.get(url)
    assert_kibo_error(anonymous, 401, "INVALID_APP_TOKEN")
    assert "application/problem+json" not in anonymous.headers["content-type"]
    assert_kibo_error(await client.get(url, headers=bearer("gh_at_made-up")), 401, "INVALID_APP_TOKEN")
    assert_kibo_error(await client.get(url, headers={"x-vol-app-claims": "gh_at_made-up"}), 401, "INVALID_APP_TOKEN")
    assert_kibo_error(await client.get(url, headers={"Authorization": f"Basic {token}"}), 401)

    tenant_mismatch = await client.get(url, headers={**tenant.app_headers, "x-vol-tenant": str(other_tenant.id)})
    assert_kibo_error(tenant_mismatch, 403, "TENANT_MISMATCH")
    site_mismatch = await client.get(
        url, headers={**tenant.app_headers, "x-vol-site": str(other_tenant.default_site_id)}
    )
    assert_kibo_error(site_mismatch, 403, "SITE_MISMATCH")
    for bad in ("abc", "-1", "0", "1.5", "99999999999"):
        assert_kibo_error(
            await client.get(url, headers={**tenant.app_headers, "x-vol-site": bad}), 400, "INVALID_HEADER"
        )
        assert_kibo_error(
            await client.get(url, headers={**tenant.app_headers, "x-vol-tenant": bad}), 400, "INVALID_HEADER"
        )

    # An application of one tenant cannot read another, which looks like a tenant that does not exist.
    foreign = await client.get(f"/api/platform/tenants/{other_tenant.id}", headers=tenant.app_headers)
    missing = await client.get("/api/platform/tenants/2147483000", headers=tenant.app_headers)
    assert_kibo_error(foreign, 404, "TENANT_NOT_FOUND")
    assert without_correlation(assert_kibo_error(missing, 404)) == without_correlation(foreign.json())
    assert str(other_tenant.id) not in foreign.text


async def test_admin_and_app_tokens_do_not_cross(
    client: httpx.AsyncClient, tenant: TenantFixture, platform_headers
) -> None:
    admin_as_app = await client.get(f"/api/platform/tenants/{tenant.id}", headers=tenant.admin_headers)
    assert_kibo_error(admin_as_app, 401, "INVALID_APP_TOKEN")
    platform_as_app = await client.get(f"/api/platform/tenants/{tenant.id}", headers=platform_headers)
    assert_kibo_error(platform_as_app, 401, "INVALID_APP_TOKEN")
    admin_token = tenant.admin_headers["Authorization"].removeprefix("Bearer ")
    assert_kibo_error(
        await client.get(f"/api/platform/tenants/{tenant.id}", headers={"x-vol-app-claims": admin_token}), 401
    )

    app_as_admin = await client.get(f"/admin/v1/tenants/{tenant.id}/applications", headers=tenant.app_headers)
    assert_problem(app_as_admin, 401)
    assert_problem(await client.get("/admin/v1/behaviors", headers=tenant.app_headers), 401)
    app_token = tenant.app_headers["Authorization"].removeprefix("Bearer ")
    assert_problem(await client.delete("/admin/v1/token", headers=bearer(app_token)), 401)
    # The app token still works where it belongs.
    assert (await client.get(f"/api/platform/tenants/{tenant.id}", headers=tenant.app_headers)).status_code == 200


async def test_basic_auth_header_is_only_for_the_token_endpoint(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    credentials = base64.b64encode(f"{tenant.client_id}:{tenant.client_secret}".encode()).decode()
    response = await client.get(f"/api/platform/tenants/{tenant.id}", headers={"Authorization": f"Basic {credentials}"})
    assert_kibo_error(response, 401, "INVALID_APP_TOKEN")
    assert tenant.client_secret not in response.text


async def test_oauth_forms_name_each_parameter_once_and_one_client(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """RFC 6749 §3.2: a parameter sent twice is refused, as are Basic credentials beside other ones in the body
    (§2.3), on the token route and on introspection and revocation alike."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    secret = f"client_secret={tenant.client_secret}"
    twice = f"grant_type=client_credentials&client_id={tenant.client_id}&client_id=other&{secret}".encode()
    assert (
        assert_kibo_error(await client.post(OAUTH, content=twice, headers=form), 400, "INVALID_REQUEST")["error"]
        == "invalid_request"
    )
    basic = (tenant.client_id, tenant.client_secret)
    other_secret = await client.post(
        OAUTH, data={"grant_type": "client_credentials", "client_secret": "ghs_other"}, auth=basic
    )
    assert assert_kibo_error(other_secret, 400, "INVALID_REQUEST")["error"] == "invalid_request"

    for route in ("introspect", "revoke"):
        url = f"/tenants/{tenant.id}/oauth2/{route}"
        repeated = await client.post(url, content=b"token=a&token=b", headers=form, auth=basic)
        assert assert_problem(repeated, 400, "INVALID_REQUEST")["error"] == "invalid_request"
        other_client = await client.post(url, data={"token": "a", "client_id": "gh.1.other"}, auth=basic)
        assert assert_problem(other_client, 400, "INVALID_REQUEST")["error"] == "invalid_request"
        same_client = await client.post(url, data={"token": "a", "client_id": tenant.client_id}, auth=basic)
        assert same_client.status_code == 200, same_client.text
