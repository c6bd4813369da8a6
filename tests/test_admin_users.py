"""Admin sign-in and sign-out, throttling, a tenant's admin users, and the behaviors list."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from service.applications.behaviors import Behavior
from tests.conftest import TenantFixture, admin_token, assert_problem, bearer, unique

TOKEN = "/admin/v1/token"
ADMIN_USER_FIELDS = {"id", "tenantId", "username", "role", "isEnabled", "createdAt", "updatedAt"}


def users_url(tenant: TenantFixture) -> str:
    return f"/admin/v1/tenants/{tenant.id}/admin-users"


async def create_user(
    client: httpx.AsyncClient, tenant: TenantFixture, role: str = "admin", username: str | None = None
) -> tuple[dict, str]:
    password = secrets.token_urlsafe(16)
    response = await client.post(
        users_url(tenant),
        json={"username": username or unique("ops"), "password": password, "role": role},
        headers=tenant.admin_headers,
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) == ADMIN_USER_FIELDS and password not in response.text
    return response.json(), password


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, tenant_id: int | None = None
) -> httpx.Response:
    body: dict[str, object] = {"username": username, "password": password}
    if tenant_id is not None:
        body["tenantId"] = tenant_id
    return await client.post(TOKEN, json=body)


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "requestId"}


# --- sign-in ------------------------------------------------------------------------------------


async def test_sign_in_answers_a_bearer_token(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    user, password = await create_user(client, tenant)
    response = await sign_in(client, user["username"], password, tenant.id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenType"] == "Bearer" and body["accessToken"] and body["expiresIn"] > 0 and body["expiresAt"]
    assert password not in response.text
    listed = await client.get(users_url(tenant), headers=bearer(body["accessToken"]))
    assert listed.status_code == 200
    # Usernames are matched without regard to case.
    assert (await sign_in(client, user["username"].upper(), password, tenant.id)).status_code == 200


async def test_wrong_password_unknown_and_disabled_users_are_indistinguishable(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    user, password = await create_user(client, tenant)
    disabled, disabled_password = await create_user(client, tenant)
    patched = await client.patch(
        f"{users_url(tenant)}/{disabled['id']}", json={"isEnabled": False}, headers=tenant.admin_headers
    )
    assert patched.status_code == 200 and patched.json()["isEnabled"] is False

    answers = [
        await sign_in(client, user["username"], password + "x", tenant.id),
        await sign_in(client, unique("nobody"), password, tenant.id),
        await sign_in(client, disabled["username"], disabled_password, tenant.id),
        await sign_in(client, user["username"], password, 2147483000),
    ]
    bodies = [without_request_id(assert_problem(a, 401, "INVALID_CREDENTIALS")) for a in answers]
    assert all(body == bodies[0] for body in bodies), bodies
    assert len({a.json()["requestId"] for a in answers}) == len(answers)
    for answer in answers:
        assert answer.headers["www-authenticate"].lower().startswith("bearer")
        assert user["username"] not in answer.text and disabled["username"] not in answer.text


async def test_tenant_admin_signs_in_only_with_its_tenant(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, platform_admin: tuple[str, str]
) -> None:
    user, password = await create_user(client, tenant)
    assert_problem(await sign_in(client, user["username"], password), 401, "INVALID_CREDENTIALS")
    assert_problem(await sign_in(client, user["username"], password, other_tenant.id), 401, "INVALID_CREDENTIALS")
    assert (await sign_in(client, user["username"], password, tenant.id)).status_code == 200
    # A platform admin has no tenant.
    assert_problem(await sign_in(client, *platform_admin, tenant.id), 401, "INVALID_CREDENTIALS")
    assert (await sign_in(client, *platform_admin)).status_code == 200

    # The same username may exist in two tenants; each signs in to its own.
    twin, twin_password = await create_user(client, other_tenant, username=user["username"])
    mine = (await sign_in(client, user["username"], password, tenant.id)).json()["accessToken"]
    theirs = (await sign_in(client, user["username"], twin_password, other_tenant.id)).json()["accessToken"]
    assert (await client.get(users_url(tenant), headers=bearer(mine))).status_code == 200
    assert_problem(await client.get(users_url(tenant), headers=bearer(theirs)), 404, "TENANT_NOT_FOUND")
    assert_problem(await sign_in(client, user["username"], twin_password, tenant.id), 401)
    assert twin["tenantId"] == other_tenant.id


@pytest.mark.parametrize(
    "body",
    [
        {"username": "a"},
        {"password": "a"},
        {"username": "", "password": "x"},
        {"username": "a", "password": "b", "tenantId": "one"},
        {"username": "a", "password": "b", "remember": True},
        {"username": ["a"], "password": "b"},
    ],
)
async def test_sign_in_validation(client: httpx.AsyncClient, body: dict) -> None:
    assert_problem(await client.post(TOKEN, json=body), 400, "VALIDATION_FAILED")


async def test_ten_failures_answer_429_until_the_window_passes(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    user, password = await create_user(client, tenant)
    other, other_password = await create_user(client, tenant)
    for _ in range(10):
        assert_problem(await sign_in(client, user["username"], "wrong-password", tenant.id), 401, "INVALID_CREDENTIALS")
    throttled = await sign_in(client, user["username"], "wrong-password", tenant.id)
    assert_problem(throttled, 429, "RATE_LIMITED")
    retry_after = int(throttled.headers["retry-after"])
    assert 1 <= retry_after <= 15 * 60
    # Even the right password is refused now, and the username's case does not matter.
    assert_problem(await sign_in(client, user["username"], password, tenant.id), 429, "RATE_LIMITED")
    assert_problem(await sign_in(client, user["username"].upper(), password, tenant.id), 429, "RATE_LIMITED")
    # Other users from the same address are not affected.
    assert (await sign_in(client, other["username"], other_password, tenant.id)).status_code == 200


async def test_parallel_wrong_passwords_get_no_more_than_ten_verifications(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    user, password = await create_user(client, tenant)
    answers = await asyncio.gather(*(sign_in(client, user["username"], "wrong-password", tenant.id) for _ in range(20)))
    # Each attempt takes its slot before the password is checked: ten are verified, the rest refused unchecked.
    assert sorted(a.status_code for a in answers) == [401] * 10 + [429] * 10
    for refused in (a for a in answers if a.status_code == 429):
        assert_problem(refused, 429, "RATE_LIMITED")
        assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    # The tenth failure locked the username: while the lock lasts, the right password is refused too.
    locked = await sign_in(client, user["username"], password, tenant.id)
    assert_problem(locked, 429, "RATE_LIMITED")
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60


async def test_a_successful_sign_in_resets_the_failure_count(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    user, password = await create_user(client, tenant)
    for _ in range(9):
        assert_problem(await sign_in(client, user["username"], "wrong-password", tenant.id), 401)
    assert (await sign_in(client, user["username"], password, tenant.id)).status_code == 200
    for _ in range(9):
        assert_problem(await sign_in(client, user["username"], "wrong-password", tenant.id), 401)
    assert (await sign_in(client, user["username"], password, tenant.id)).status_code == 200


async def test_sign_out_ends_only_that_token(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    user, password = await create_user(client, tenant)
    first = await admin_token(client, user["username"], password, tenant.id)
    second = await admin_token(client, user["username"], password, tenant.id)
    signed_out = await client.delete(TOKEN, headers=bearer(first))
    assert signed_out.status_code == 204
    assert_problem(await client.get(users_url(tenant), headers=bearer(first)), 401, "INVALID_TOKEN")
    assert_problem(await client.delete(TOKEN, headers=bearer(first)), 401)
    assert (await client.get(users_url(tenant), headers=bearer(second))).status_code == 200
    assert_problem(await client.delete(TOKEN), 401, "MISSING_TOKEN")


# --- admin users --------------------------------------------------------------------------------


async def test_admin_user_crud(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    user, password = await create_user(client, tenant, role="viewer")
    assert user["role"] == "viewer" and user["tenantId"] == tenant.id and user["isEnabled"] is True
    url = f"{users_url(tenant)}/{user['id']}"

    listed = await client.get(users_url(tenant), headers=tenant.viewer_headers)
    assert listed.status_code == 200
    assert user["id"] in [u["id"] for u in listed.json()]
    assert all(set(u) == ADMIN_USER_FIELDS for u in listed.json())
    assert "argon2" not in listed.text and "password" not in listed.text.lower()
    got = await client.get(url, headers=tenant.viewer_headers)
    assert got.json() == user

    viewer_token = await admin_token(client, user["username"], password, tenant.id)
    promoted = await client.patch(url, json={"role": "admin"}, headers=tenant.admin_headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    # The role is re-read on every call: the same token may write now.
    made = await client.post(
        f"/admin/v1/tenants/{tenant.id}/customer-sets",
        json={"code": "promoted", "name": "P"},
        headers=bearer(viewer_token),
    )
    assert made.status_code == 201, made.text

    new_password = secrets.token_urlsafe(16)
    changed = await client.patch(url, json={"password": new_password}, headers=tenant.admin_headers)
    assert changed.status_code == 200 and set(changed.json()) == ADMIN_USER_FIELDS
    assert new_password not in changed.text and "argon2" not in changed.text
    assert_problem(await sign_in(client, user["username"], password, tenant.id), 401)
    # A new password ends the tokens signed in with the old one.
    assert_problem(await client.get(users_url(tenant), headers=bearer(viewer_token)), 401)
    assert (await sign_in(client, user["username"], new_password, tenant.id)).status_code == 200
    viewer_token = await admin_token(client, user["username"], new_password, tenant.id)
    # Disabling ends them too, and enabling again does not bring them back.
    await client.patch(url, json={"isEnabled": False}, headers=tenant.admin_headers)
    await client.patch(url, json={"isEnabled": True}, headers=tenant.admin_headers)
    assert_problem(await client.get(users_url(tenant), headers=bearer(viewer_token)), 401)
    viewer_token = await admin_token(client, user["username"], new_password, tenant.id)

    deleted = await client.delete(url, headers=tenant.admin_headers)
    assert deleted.status_code == 204
    assert_problem(await client.get(url, headers=tenant.admin_headers), 404, "ADMIN_USER_NOT_FOUND")
    assert_problem(await client.delete(url, headers=tenant.admin_headers), 404, "ADMIN_USER_NOT_FOUND")
    assert_problem(await client.get(users_url(tenant), headers=bearer(viewer_token)), 401)
    assert_problem(await sign_in(client, user["username"], new_password, tenant.id), 401)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "short-pass", "password": "elevenchars"}, 400),
        ({"username": "has space", "password": "long-enough-password"}, 400),
        ({"username": "", "password": "long-enough-password"}, 400),
        ({"username": "boss", "password": "long-enough-password", "role": "platform-admin"}, 400),
        ({"username": "boss", "password": "long-enough-password", "tenantId": None}, 400),
        ({"username": "boss", "password": "long-enough-password", "passwordHash": "x"}, 400),
        ({"username": "boss", "password": 123456789012345}, 400),
    ],
)
async def test_admin_user_create_validation(
    client: httpx.AsyncClient, tenant: TenantFixture, body: dict, status: int
) -> None:
    before = (await client.get(users_url(tenant), headers=tenant.admin_headers)).json()
    assert_problem(
        await client.post(users_url(tenant), json=body, headers=tenant.admin_headers), status, "VALIDATION_FAILED"
    )
    assert (await client.get(users_url(tenant), headers=tenant.admin_headers)).json() == before


async def test_admin_user_update_validation(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    user, password = await create_user(client, tenant)
    url = f"{users_url(tenant)}/{user['id']}"
    for body in ({"password": "too-short"}, {"role": "platform-admin"}, {"username": "renamed"}, {"isEnabled": "no"}):
        assert_problem(await client.patch(url, json=body, headers=tenant.admin_headers), 400, "VALIDATION_FAILED")
    assert (await client.get(url, headers=tenant.admin_headers)).json() == user
    assert (await sign_in(client, user["username"], password, tenant.id)).status_code == 200


async def test_duplicate_username_is_a_conflict_regardless_of_case(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    username = unique("dup")
    await create_user(client, tenant, username=username)
    for same in (username, username.upper(), username.capitalize()):
        response = await client.post(
            users_url(tenant),
            json={"username": same, "password": "another-long-password"},
            headers=tenant.admin_headers,
        )
        assert_problem(response, 409, "ADMIN_USER_EXISTS")
    names = [u["username"].lower() for u in (await client.get(users_url(tenant), headers=tenant.admin_headers)).json()]
    assert names.count(username.lower()) == 1


async def test_disabling_an_admin_ends_its_tokens_at_once(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    user, password = await create_user(client, tenant)
    token = bearer(await admin_token(client, user["username"], password, tenant.id))
    assert (await client.get(users_url(tenant), headers=token)).status_code == 200

    disabled = await client.patch(
        f"{users_url(tenant)}/{user['id']}", json={"isEnabled": False}, headers=tenant.admin_headers
    )
    assert disabled.status_code == 200 and disabled.json()["isEnabled"] is False
    assert_problem(await client.get(users_url(tenant), headers=token), 401, "INVALID_TOKEN")
    assert_problem(
        await client.post(
            f"/admin/v1/tenants/{tenant.id}/customer-sets", json={"code": "x1", "name": "X"}, headers=token
        ),
        401,
    )
    assert_problem(await sign_in(client, user["username"], password, tenant.id), 401, "INVALID_CREDENTIALS")

    enabled = await client.patch(
        f"{users_url(tenant)}/{user['id']}", json={"isEnabled": True}, headers=tenant.admin_headers
    )
    assert enabled.json()["isEnabled"] is True
    assert (await sign_in(client, user["username"], password, tenant.id)).status_code == 200


async def test_who_may_manage_admin_users(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, platform_headers
) -> None:
    body = {"username": unique("new"), "password": "long-enough-password"}
    assert_problem(
        await client.post(users_url(tenant), json=body, headers=tenant.viewer_headers), 403, "READ_ONLY_ADMIN"
    )
    assert_problem(
        await client.post(users_url(tenant), json=body, headers=other_tenant.admin_headers), 404, "TENANT_NOT_FOUND"
    )
    assert_problem(await client.post(users_url(tenant), json=body), 401)
    names = [u["username"] for u in (await client.get(users_url(tenant), headers=tenant.admin_headers)).json()]
    assert body["username"] not in names

    # A viewer cannot change anyone, including itself.
    users = (await client.get(users_url(tenant), headers=tenant.viewer_headers)).json()
    viewer = next(u for u in users if u["role"] == "viewer")
    assert_problem(
        await client.patch(
            f"{users_url(tenant)}/{viewer['id']}", json={"role": "admin"}, headers=tenant.viewer_headers
        ),
        403,
        "READ_ONLY_ADMIN",
    )
    assert (await client.get(f"{users_url(tenant)}/{viewer['id']}", headers=tenant.admin_headers)).json()[
        "role"
    ] == "viewer"

    # Another tenant's admin user is not reachable through your own tenant's path.
    theirs = (await client.get(users_url(other_tenant), headers=other_tenant.admin_headers)).json()
    their_admin = next(u for u in theirs if u["role"] == "admin")
    through_mine = await client.patch(
        f"{users_url(tenant)}/{their_admin['id']}", json={"isEnabled": False}, headers=tenant.admin_headers
    )
    assert_problem(through_mine, 404, "ADMIN_USER_NOT_FOUND")
    assert_problem(await client.delete(f"{users_url(tenant)}/{their_admin['id']}", headers=tenant.admin_headers), 404)
    assert (await client.get(users_url(other_tenant), headers=other_tenant.admin_headers)).status_code == 200

    # The platform admin manages any tenant's admin users.
    created = await client.post(users_url(tenant), json=body, headers=platform_headers)
    assert created.status_code == 201 and created.json()["tenantId"] == tenant.id
    assert_problem(await client.post(users_url(tenant), json=body, headers=platform_headers), 409)
    assert_problem(
        await client.post("/admin/v1/tenants/2147483000/admin-users", json=body, headers=platform_headers),
        404,
        "TENANT_NOT_FOUND",
    )


# --- behaviors ----------------------------------------------------------------------------------


async def test_behaviors_list(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.get("/admin/v1/behaviors", headers=tenant.viewer_headers)
    assert response.status_code == 200
    behaviors = response.json()
    assert sorted(b["name"] for b in behaviors) == sorted(b.value for b in Behavior)
    assert len(behaviors) == 5
    assert {b["name"] for b in behaviors} == {
        "customer:accounts:read",
        "customer:accounts:write",
        "customer:authtickets",
        "customer-auth:configure-token-durations",
        "tokens:introspect",
    }
    assert all(isinstance(b["description"], str) and b["description"] for b in behaviors)
    assert_problem(await client.get("/admin/v1/behaviors"), 401, "MISSING_TOKEN")


async def test_tenant_id_zero_is_not_the_platform(client: httpx.AsyncClient, platform_admin) -> None:
    response = await client.post(
        "/admin/v1/token", json={"username": platform_admin[0], "password": platform_admin[1], "tenantId": 0}
    )
    assert_problem(response, 400, "VALIDATION_FAILED")
