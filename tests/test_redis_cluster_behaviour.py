"""Two Gatehouse instances, on different ports, sharing PostgreSQL and one Redis: a real 3+3 Cluster, or a
primary and replica watched by 3 Sentinels (tests/redis_topologies.py). Every request alternates between the
instances, the way a load balancer spreads them, and what one instance does holds on the other at once:
rotation, session ends, revocations, lockout counts. On the Cluster, each account's and each application's
keys live in their own hash slot (service.platform.keyspace), so these also show that no script there reaches
across slots (Cluster would answer CROSSSLOT, a 500).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.crc import key_slot

from service.applications.recent import LOCAL_TRUST_SECONDS
from service.platform import keyspace
from service.twofactor.totp import totp
from tests.conftest import (
    Servers,
    ServiceProcess,
    TenantFixture,
    admin_token,
    assert_kibo_error,
    bearer,
    make_tenant,
    sign_up,
    start_service,
    stop_service,
    unique,
)

TICKETS = "/api/commerce/customer/authtickets"
APP_TICKETS = "/api/platform/applications/authtickets"
PASSWORD = "a perfectly good passphrase"
PUBLIC_URL = "https://id.example.test"  # one issuer for both instances, as behind one load balancer


@pytest.fixture(scope="module", params=["cluster", "sentinel"])
def instances(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    topology = request.getfixturevalue(f"redis_{request.param}")
    shared = Servers(servers.database_url, topology.url)
    logs: Path = tmp_path_factory.mktemp(f"two-on-{request.param}")
    first = start_service(shared, logs / "first.log", GATEHOUSE_PUBLIC_URL=PUBLIC_URL)
    try:
        second = start_service(shared, logs / "second.log", GATEHOUSE_PUBLIC_URL=PUBLIC_URL)
    except BaseException:
        stop_service(first)
        raise
    yield first, second
    for running in (first, second):
        stop_service(running)
        assert "Traceback" not in running.log_text(), running.log_text()[-3000:]


@dataclass
class Two:
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
    tenant: TenantFixture
    platform_headers: dict[str, str]

    def spread(self, count: int) -> list[httpx.AsyncClient]:
        """`count` clients, every other one the other instance's."""
        return [self.clients[i % 2] for i in range(count)]


@pytest.fixture
async def two(instances: tuple[ServiceProcess, ServiceProcess], platform_admin: tuple[str, str]) -> AsyncIterator[Two]:
    first, second = instances
    async with (
        httpx.AsyncClient(base_url=first.base_url, timeout=60) as a,
        httpx.AsyncClient(base_url=second.base_url, timeout=60) as b,
    ):
        platform_headers = bearer(await admin_token(a, *platform_admin))
        yield Two((a, b), await make_tenant(a, platform_headers), platform_headers)


async def signup(client: httpx.AsyncClient, tenant: TenantFixture) -> dict:
    return await sign_up(client, tenant, f"{unique('two')}@example.com", PASSWORD)


async def login(
    client: httpx.AsyncClient, tenant: TenantFixture, email: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(TICKETS, json={"username": email, "password": password}, headers=tenant.app_headers)


async def refresh(client: httpx.AsyncClient, tenant: TenantFixture, token: str) -> httpx.Response:
    return await client.put(f"{TICKETS}/refresh", params={"refreshToken": token}, headers=tenant.app_headers)


async def introspect(client: httpx.AsyncClient, tenant: TenantFixture, token: str) -> dict:
    basic = base64.b64encode(f"{tenant.client_id}:{tenant.client_secret}".encode()).decode()
    response = await client.post(
        f"/tenants/{tenant.id}/oauth2/introspect", data={"token": token}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def active_on_both(two: Two, *tokens: str) -> list[bool]:
    """For each token, whether it is active — asked of both instances, which must agree."""
    answers = []
    for token in tokens:
        seen = [(await introspect(client, two.tenant, token))["active"] for client in two.clients]
        assert seen[0] == seen[1], (token[:12], seen)
        answers.append(seen[0])
    return answers


async def settings(two: Two, **changes: object) -> None:
    client, url = two.clients[0], f"/admin/v1/tenants/{two.tenant.id}/settings"
    current = (await client.get(url, headers=two.tenant.admin_headers)).json()
    for key, value in changes.items():
        current[key] = {**current[key], **value} if isinstance(value, dict) else value
    response = await client.put(url, json=current, headers=two.tenant.admin_headers)
    assert response.status_code == 200, response.text


async def test_fifty_parallel_refreshes_over_both_instances_yield_one_successor(two: Two) -> None:
    ticket = await signup(two.clients[0], two.tenant)
    answers = await asyncio.gather(*(refresh(c, two.tenant, ticket["refreshToken"]) for c in two.spread(50)))
    # Within the grace window the replays get the same successor again (a client that lost the answer).
    assert [a.status_code for a in answers] == [200] * 50, [a.text[:200] for a in answers if a.status_code != 200]
    successors = {a.json()["refreshToken"] for a in answers}
    assert len(successors) == 1
    successor = successors.pop()
    assert await active_on_both(two, successor, answers[0].json()["accessToken"], ticket["refreshToken"]) == [
        True, True, False,
    ]  # fmt: skip
    onward = await refresh(two.clients[1], two.tenant, successor)
    assert onward.status_code == 200, onward.text


async def test_without_a_grace_window_parallel_refreshes_rotate_once_and_a_replay_ends_the_session(two: Two) -> None:
    await settings(two, refreshReuseGraceSeconds=0)
    ticket = await signup(two.clients[1], two.tenant)
    answers = await asyncio.gather(*(refresh(c, two.tenant, ticket["refreshToken"]) for c in two.spread(50)))
    rotated = [a for a in answers if a.status_code == 200]
    for refused in (a for a in answers if a.status_code != 200):
        assert_kibo_error(refused, 401, "INVALID_REFRESH_TOKEN")
    assert rotated and len({a.json()["refreshToken"] for a in rotated}) == 1  # never two successors
    # A replay that came too late looked like theft: the session is gone, on both instances.
    again = await refresh(two.clients[0], two.tenant, ticket["refreshToken"])
    assert_kibo_error(again, 401, "INVALID_REFRESH_TOKEN")
    assert await active_on_both(two, rotated[0].json()["refreshToken"], rotated[0].json()["accessToken"]) == [
        False, False,
    ]  # fmt: skip


async def test_a_session_ended_on_one_instance_is_inactive_on_the_other_at_once(two: Two) -> None:
    a, b = two.clients
    ended, kept = await signup(a, two.tenant), await signup(b, two.tenant)
    tokens = [ended["accessToken"], ended["jwtAccessToken"], ended["refreshToken"]]
    assert await active_on_both(two, *tokens) == [True, True, True]
    logout = await a.delete(TICKETS, params={"refreshToken": ended["refreshToken"]}, headers=two.tenant.app_headers)
    assert logout.status_code == 204
    assert [(await introspect(b, two.tenant, token))["active"] for token in tokens] == [False, False, False]
    assert_kibo_error(await refresh(b, two.tenant, ended["refreshToken"]), 401, "INVALID_REFRESH_TOKEN")
    claims = {**two.tenant.app_headers, "x-vol-user-claims": ended["accessToken"]}
    assert_kibo_error(await b.get("/api/commerce/customer/accounts/current", headers=claims), 401)

    # Revoking an access token (RFC 7009) on the second instance ends the session's access tokens on the first.
    basic = base64.b64encode(f"{two.tenant.client_id}:{two.tenant.client_secret}".encode()).decode()
    revoke = await b.post(
        f"/tenants/{two.tenant.id}/oauth2/revoke",
        data={"token": kept["jwtAccessToken"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert revoke.status_code == 200
    assert [(await introspect(a, two.tenant, t))["active"] for t in (kept["accessToken"], kept["refreshToken"])] == [
        False, True,
    ]  # fmt: skip


async def test_revoke_all_ends_the_sessions_opened_on_both_instances_and_no_one_elses(two: Two) -> None:
    first = await signup(two.clients[0], two.tenant)
    email = first["customerAccount"]["emailAddress"]
    tickets = [first] + [(await login(c, two.tenant, email)).json() for c in two.spread(3)]
    bystander = await signup(two.clients[1], two.tenant)
    claims = {**two.tenant.app_headers, "x-vol-user-claims": tickets[-1]["accessToken"]}
    listed = await two.clients[1].get(f"{TICKETS}/sessions", headers=claims)
    assert listed.status_code == 200 and len(listed.json()) == 4
    assert (await two.clients[1].delete(f"{TICKETS}/sessions", headers=claims)).status_code == 204
    for ticket in tickets:
        tokens = (ticket["accessToken"], ticket["jwtAccessToken"], ticket["refreshToken"])
        assert await active_on_both(two, *tokens) == [False, False, False]
        assert_kibo_error(await refresh(two.clients[0], two.tenant, ticket["refreshToken"]), 401)
    assert await active_on_both(two, bystander["accessToken"], bystander["refreshToken"]) == [True, True]
    # The account logs in again afterwards, on either instance.
    assert (await login(two.clients[0], two.tenant, email)).status_code == 200


async def test_lockout_counts_the_attempts_made_on_both_instances(two: Two) -> None:
    await settings(two, lockout={"maxFailures": 3, "lockMinutes": 5})
    ticket = await signup(two.clients[0], two.tenant)
    email = ticket["customerAccount"]["emailAddress"]
    # Two failures on one instance and one on the other: neither saw three, the account is locked all the same.
    for client in two.spread(3):
        assert_kibo_error(await login(client, two.tenant, email, "not the passphrase"), 401, "INVALID_CREDENTIALS")
    for client in two.clients:
        assert_kibo_error(await login(client, two.tenant, email), 401, "INVALID_CREDENTIALS")
    # Unlocking on one instance lets the right password in on the other.
    unlocked = await two.clients[1].post(
        f"/api/commerce/customer/accounts/{ticket['customerAccount']['id']}/Set-Login-Locked",
        json=False,
        headers=two.tenant.app_headers,
    )
    assert unlocked.status_code == 204, unlocked.text
    assert (await login(two.clients[0], two.tenant, email)).status_code == 200


async def test_ending_an_applications_tickets_on_one_instance_holds_on_the_other(two: Two) -> None:
    a, b = two.clients
    created = await a.post(
        APP_TICKETS, json={"applicationId": two.tenant.client_id, "sharedSecret": two.tenant.client_secret}
    )
    assert created.status_code == 200, created.text
    ticket = created.json()
    app_bearer = bearer(ticket["accessToken"])
    assert (await b.get(f"/api/platform/tenants/{two.tenant.id}", headers=app_bearer)).status_code == 200
    customer = await signup(b, two.tenant)
    apps = await a.get(f"/admin/v1/tenants/{two.tenant.id}/applications", headers=two.tenant.admin_headers)
    rotated = await a.post(
        f"/admin/v1/tenants/{two.tenant.id}/applications/{apps.json()[0]['id']}/rotate-secret",
        headers=two.tenant.admin_headers,
    )
    assert rotated.status_code == 200, rotated.text
    await asyncio.sleep(LOCAL_TRUST_SECONDS + 0.2)  # the most another process trusts what it read from Redis
    for token in (ticket["accessToken"], two.tenant.app_headers["Authorization"].removeprefix("Bearer ")):
        refused = await b.get(f"/api/platform/tenants/{two.tenant.id}", headers=bearer(token))
        assert_kibo_error(refused, 401, "INVALID_APP_TOKEN")
    spent = await b.put(f"{APP_TICKETS}/refresh-ticket", json={"refreshToken": ticket["refreshToken"]})
    assert_kibo_error(spent, 401, "INVALID_REFRESH_TOKEN")
    # The customer's session outlives the application's tickets, but nobody can refresh it through them.
    assert_kibo_error(await refresh(b, two.tenant, customer["refreshToken"]), 401, "INVALID_APP_TOKEN")


async def test_a_second_factor_asked_on_one_instance_is_answered_on_the_other(two: Two) -> None:
    a, b = two.clients
    ticket = await signup(a, two.tenant)
    me = bearer(ticket["accessToken"])
    secret = (await a.post("/api/commerce/customer/accounts/current/authenticator", headers=me)).json()["secret"]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    now = time.time()
    confirm = {"code": totp(key, now - 30)}
    confirmed = await b.post("/api/commerce/customer/accounts/current/authenticator/confirm", json=confirm, headers=me)
    assert confirmed.status_code == 200, confirmed.text
    pending = (await login(b, two.tenant, ticket["customerAccount"]["emailAddress"])).json()
    assert pending["requires2FA"] is True
    finished = await a.post(
        f"{TICKETS}/2fa/auth", json={"otpCode": totp(key, now)}, headers=bearer(pending["accessToken"])
    )
    assert finished.status_code == 200, finished.text
    # The pending login is spent on both instances; the session it opened is active on both.
    replay = await b.post(
        f"{TICKETS}/2fa/auth", json={"otpCode": totp(key, now)}, headers=bearer(pending["accessToken"])
    )
    assert_kibo_error(replay, 401)
    assert await active_on_both(two, finished.json()["accessToken"], finished.json()["refreshToken"]) == [True, True]


async def test_an_admins_password_change_on_one_instance_ends_its_tokens_on_both(two: Two) -> None:
    a, b = two.clients
    username, password = unique("ops"), secrets.token_urlsafe(16)
    users = f"/admin/v1/tenants/{two.tenant.id}/admin-users"
    created = await a.post(users, json={"username": username, "password": password, "role": "admin"},
                           headers=two.platform_headers)  # fmt: skip
    assert created.status_code == 201, created.text
    # Several tokens, so their keys sit in several slots (on a Cluster, on several nodes).
    tokens = [await admin_token(client, username, password, two.tenant.id) for client in two.spread(4)]
    settings_url = f"/admin/v1/tenants/{two.tenant.id}/settings"
    assert {(await b.get(settings_url, headers=bearer(t))).status_code for t in tokens} == {200}
    changed = await b.patch(
        f"{users}/{created.json()['id']}", json={"password": secrets.token_urlsafe(16)}, headers=two.platform_headers
    )
    assert changed.status_code == 200, changed.text
    for client in two.clients:
        assert {(await client.get(settings_url, headers=bearer(t))).status_code for t in tokens} == {401}
    assert (await a.get(settings_url, headers=two.tenant.admin_headers)).status_code == 200  # others' kept


@pytest.mark.parametrize(("tenant_id", "account_id", "application_id"), [(1, 1, 1), (7, 123456, 99), (2**31, 5, 2**31)])
def test_the_keys_each_script_receives_share_one_hash_slot(
    tenant_id: int, account_id: int, application_id: int
) -> None:
    """A supporting check of the keyspace's groups (the behaviour above is the real one): what one script or
    write receives maps to one Cluster slot."""
    sid = f"{keyspace.account_tag(tenant_id, account_id)}.{secrets.token_urlsafe(16)}"
    digest = secrets.token_hex(32)
    groups = [
        [keyspace.session_key(sid), keyspace.access_key(sid, digest), keyspace.refresh_key(sid, digest[::-1]),
         keyspace.account_sessions_key(tenant_id, account_id),
         keyspace.sessions_set_key(tenant_id, account_id, sid)],
        [keyspace.app_token_key(application_id, digest), keyspace.app_refresh_token_key(application_id, digest),
         keyspace.app_state_key(application_id)],
        *([keys.failures, keys.lock] for keys in (
            keyspace.account_attempt_keys(tenant_id, account_id),
            keyspace.magento_token_attempt_keys(tenant_id, 1, "someone@example.com"),
            keyspace.admin_sign_in_attempt_keys(tenant_id, "Admin", "127.0.0.1"),
        )),
    ]  # fmt: skip
    for group in groups:
        assert len({key_slot(key.encode()) for key in group}) == 1, group
    # Different accounts (and applications) are spread over the slots, not all in one.
    spread = {key_slot(keyspace.account_sessions_key(tenant_id, n).encode()) for n in range(200)}
    assert len(spread) > 150
