"""Webhooks end to end: real services deliver to a real receiver on loopback, every delivery verified with the
`standardwebhooks` library from PyPI, unmodified.

The services here allow loopback (GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS), plain HTTP included, and retry fast.
Every other service the suite starts delivers nothing (conftest), so none of them competes for these
deliveries with settings of its own.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from aiohttp.abc import AbstractResolver

from service.events.sender import CheckedResolver, Sender
from service.events.ssrf import AddressPolicy, BlockedAddress
from service.twofactor.totp import totp
from tests.conftest import (
    Servers,
    ServiceProcess,
    TenantFixture,
    admin_token,
    assert_problem,
    bearer,
    free_port,
    make_tenant,
    start_service,
    stop_service,
    unique,
)
from tests.magento_support import make_magento_tenant
from tests.webhook_support import (
    ACCOUNTS,
    HOOKED,
    PASSWORD,
    TICKETS,
    Receiver,
    add_endpoint,
    allowed_networks,
    deliveries,
    endpoints_of,
    log_in,
    of_account,
    once_each,
    signup,
    verified,
    wait_delivered,
    wait_for,
)

ALL_TYPES = [
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.password_changed",
    "customer.password_reset_requested",
    "customer.locked",
    "customer.unlocked",
    "customer.login_succeeded",
    "customer.login_failed",
    "session.revoked",
    "second_factor.enrolled",
    "second_factor.removed",
    "import.completed",
]


@pytest.fixture(scope="module")
def receiver() -> Receiver:
    running = Receiver()
    running.start()
    return running


@pytest.fixture(scope="module")
def hooked(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = tmp_path_factory.mktemp("hooked") / "service.log"
    running = start_service(servers, log, **HOOKED, GATEHOUSE_METRICS_PORT=str(free_port()))
    yield running
    stop_service(running)


@pytest.fixture
async def http(hooked: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hooked.base_url, timeout=30) as client:
        yield client


@pytest.fixture
async def root(http: httpx.AsyncClient, platform_admin: tuple[str, str]) -> dict[str, str]:
    return bearer(await admin_token(http, *platform_admin))


@pytest.fixture
async def shop(http: httpx.AsyncClient, root: dict[str, str]) -> TenantFixture:
    return await make_tenant(http, root)


async def test_kibo_changes_arrive_signed_in_order_and_without_secrets(
    http: httpx.AsyncClient, shop: TenantFixture, receiver: Receiver
) -> None:
    path = receiver.path()
    endpoint = await add_endpoint(http, shop, receiver.url(path), eventTypes=ALL_TYPES)
    assert endpoint["secret"].startswith("whsec_") and endpoint["eventTypes"] == sorted(ALL_TYPES)
    shown = (await http.get(f"{endpoints_of(shop)}/{endpoint['id']}", headers=shop.admin_headers)).json()
    assert "secret" not in shown and shown["failingSince"] is None

    ticket = await signup(http, shop, externalId="crm-17", firstName="Cy")
    account = ticket["customerAccount"]
    url, app = f"{ACCOUNTS}/{account['id']}", shop.app_headers
    assert (await http.put(url, json={"firstName": "Di"}, headers=app)).status_code == 200
    wrong = await http.post(TICKETS, json={"username": account["emailAddress"], "password": "nope"}, headers=app)
    assert wrong.status_code == 401
    await log_in(http, shop, account["emailAddress"])
    assert (await http.post(f"{url}/Set-Login-Locked", json=True, headers=app)).status_code == 204
    assert (await http.post(f"{url}/Set-Login-Locked", json=False, headers=app)).status_code == 204
    new_password = "another good passphrase"
    change = {"oldPassword": PASSWORD, "newPassword": new_password}
    assert (await http.post(f"{url}/Change-Password", json=change, headers=app)).status_code == 204
    session = await log_in(http, shop, account["emailAddress"], new_password)
    me = {"Authorization": f"Bearer {session['accessToken']}"}
    enrolment = (await http.post(f"{ACCOUNTS}/current/authenticator", headers=me)).json()
    key = base64.b32decode(enrolment["secret"] + "=" * (-len(enrolment["secret"]) % 8))
    confirm = {"code": totp(key, time.time())}
    assert (await http.post(f"{ACCOUNTS}/current/authenticator/confirm", json=confirm, headers=me)).status_code == 200
    disable = {"password": new_password}
    assert (await http.post(f"{ACCOUNTS}/current/authenticator/disable", json=disable, headers=me)).status_code == 204
    logout = await http.delete(TICKETS, params={"refreshToken": session["refreshToken"]}, headers=app)
    assert logout.status_code == 204
    reset = await http.post(f"{ACCOUNTS}/Reset-Password", json={"emailAddress": account["emailAddress"]}, headers=app)
    assert reset.status_code == 204
    # The reset runs after its answer (so that its timing tells nothing): its event comes when it is done.
    await wait_for(lambda: any("password_reset_requested" in r.body for r in receiver.at(path)))
    assert (await http.delete(url, headers=app)).status_code == 204

    expected = [
        "customer.created",
        "customer.updated",
        "customer.login_failed",
        "customer.login_succeeded",
        "customer.locked",
        "customer.unlocked",
        "customer.password_changed",
        "customer.login_succeeded",
        "second_factor.enrolled",
        "second_factor.removed",
        "session.revoked",
        "customer.password_reset_requested",
        "customer.deleted",
    ]
    await wait_for(lambda: len(receiver.at(path)) >= len(expected))
    events = verified(receiver.at(path), endpoint["secret"])
    assert of_account(events, account["id"]) == expected
    for event in events:
        data = event["data"]
        assert data["tenantId"] == shop.id and data["customerSet"] == "default" and data["externalId"] == "crm-17"
        assert event["version"] == 1 and datetime.fromisoformat(event["timestamp"]).tzinfo is not None
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["customer.created"]["actor"] == {"type": "application", "id": shop.client_id}
    assert by_type["customer.updated"]["changed"] == ["firstName"]
    assert by_type["customer.login_failed"]["reason"] == "wrong_password"
    assert by_type["customer.locked"]["reason"] == "admin"
    assert by_type["second_factor.enrolled"]["actor"] == {"type": "customer", "id": str(account["id"])}
    assert by_type["session.revoked"]["reason"] == "logout" and by_type["session.revoked"]["sessionId"]
    bodies = " ".join(r.body for r in receiver.at(path))
    for secret in (PASSWORD, new_password, session["accessToken"], session["refreshToken"], enrolment["secret"]):
        assert secret not in bodies


async def test_imports_magento_and_revoke_all_are_told_too(
    http: httpx.AsyncClient, root: dict[str, str], receiver: Receiver
) -> None:
    magento = await make_magento_tenant(http, root)
    path = receiver.path()
    endpoint = await add_endpoint(http, magento.tenant, receiver.url(path))
    assert "customer.login_failed" not in endpoint["eventTypes"]  # opt-in: only when named
    strong = "Passphrase 1 ok"  # Magento's policy: three character classes
    bulk = [{"account": {"emailAddress": f"{unique('b')}@example.com"}, "password": strong} for _ in range(2)]
    imported = await http.post(f"{ACCOUNTS}/Bulk", json=bulk, headers=magento.tenant.app_headers)
    assert imported.status_code == 201, imported.text
    first = imported.json()["items"][0]
    session = await log_in(http, magento.tenant, first["emailAddress"], strong)
    me = {"Authorization": f"Bearer {session['accessToken']}"}
    assert (await http.delete(f"{TICKETS}/sessions", headers=me)).status_code == 204
    customer = {"customer": {"email": f"{unique('m')}@example.com", "firstname": "Mo", "lastname": "Ng"}}
    created = await magento.admin(http, "POST", "/rest/V1/customers", json=customer)
    assert created.status_code == 200, created.text
    customer_id = created.json()["id"]
    changed = {"customer": {**customer["customer"], "lastname": "Ngo", "gender": 2}}
    assert (await magento.admin(http, "PUT", f"/rest/V1/customers/{customer_id}", json=changed)).status_code == 200
    token = await http.post(
        "/rest/V1/integration/customer/token",
        json={"username": customer["customer"]["email"], "password": "not set"},
        headers=magento.headers(),
    )
    assert token.status_code == 401  # no password: a failed login, which this endpoint did not opt in to
    assert (await magento.admin(http, "DELETE", f"/rest/V1/customers/{customer_id}")).status_code == 200

    await wait_for(lambda: len(receiver.at(path)) >= 8)
    events = verified(receiver.at(path), endpoint["secret"])
    ids = [a["id"] for a in imported.json()["items"]]
    assert of_account(events, ids[0]) == ["customer.created", "customer.login_succeeded", "session.revoked"]
    assert of_account(events, ids[1]) == ["customer.created"]
    revoked = next(e["data"] for e in events if e["type"] == "session.revoked")
    assert revoked["reason"] == "revoke_all" and revoked["sessions"] == 1 and revoked["actor"]["type"] == "customer"
    done = next(e["data"] for e in events if e["type"] == "import.completed")
    assert done["accountIds"] == ids and done["created"] == 2 and done["customerSet"] == "default"
    assert of_account(events, customer_id) == ["customer.created", "customer.updated", "customer.deleted"]
    updated = next(e["data"] for e in events if e["type"] == "customer.updated")
    assert updated["changed"] == ["gender", "lastName"] and updated["actor"]["type"] == "admin"


async def test_rotation_signs_with_both_secrets_for_the_overlap(
    http: httpx.AsyncClient, shop: TenantFixture, receiver: Receiver
) -> None:
    path = receiver.path()
    endpoint = await add_endpoint(http, shop, receiver.url(path), eventTypes=["customer.created"])
    url = f"{endpoints_of(shop)}/{endpoint['id']}/rotate-secret"
    rotated = (await http.post(url, headers=shop.admin_headers)).json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previousSecretUntil"] is not None
    await signup(http, shop)
    await wait_for(lambda: len(receiver.at(path)) == 1)
    verified(receiver.at(path), endpoint["secret"])
    verified(receiver.at(path), rotated["secret"])
    final = (await http.post(url, params={"overlapMinutes": 0}, headers=shop.admin_headers)).json()
    assert final["previousSecretUntil"] is None
    await signup(http, shop)
    await wait_for(lambda: len(receiver.at(path)) == 2)
    last = receiver.at(path)[-1:]
    verified(last, final["secret"])
    with pytest.raises(Exception, match="signature"):
        verified(last, rotated["secret"])


async def test_an_outage_of_the_receiver_loses_nothing_and_keeps_each_accounts_order(
    http: httpx.AsyncClient, shop: TenantFixture, receiver: Receiver
) -> None:
    path = receiver.path()
    endpoint = await add_endpoint(http, shop, receiver.url(path))
    receiver.modes[path] = "fail"
    accounts = [(await signup(http, shop))["customerAccount"] for _ in range(3)]
    for account in accounts:
        url = f"{ACCOUNTS}/{account['id']}"
        assert (await http.put(url, json={"lastName": "Lo"}, headers=shop.app_headers)).status_code == 200
        assert (await http.post(f"{url}/Set-Login-Locked", json=True, headers=shop.app_headers)).status_code == 204
    await wait_for(lambda: len(receiver.at(path)) >= 9, what="failed attempts")
    receiver.modes[path] = "hang"  # longer than the service's 1 s timeout
    hung = len(receiver.at(path))
    await wait_for(lambda: len(receiver.at(path)) >= hung + 3, what="timed-out attempts")
    # Until an account's first event is through, its later ones are not even tried.
    assert {verified([r], endpoint["secret"])[0]["type"] for r in receiver.at(path)} == {"customer.created"}
    receiver.modes[path] = "ok"

    listed = await wait_delivered(http, shop, endpoint, 9)
    events = once_each(verified(receiver.at(path), endpoint["secret"]))
    assert len(events) == 9
    for account in accounts:
        assert of_account(events, account["id"]) == ["customer.created", "customer.updated", "customer.locked"]
    first = listed[-1]
    assert first["attempts"] > 2 and first["lastStatus"] == 200 and first["lastError"] is None
    assert first["latencyMs"] >= 0 and first["deliveredAt"] and first["nextAttemptAt"] is None


async def test_an_accounts_events_go_out_in_the_order_their_changes_committed(
    http: httpx.AsyncClient, shop: TenantFixture, receiver: Receiver, servers: Servers
) -> None:
    """A failed login writes its event and then marks the lock on the login row. While another transaction holds
    that row, a profile update of the same account commits first: its event must go out first, although the
    login's event was written earlier."""
    path = receiver.path()
    types = ["customer.updated", "customer.login_failed", "customer.locked"]
    endpoint = await add_endpoint(http, shop, receiver.url(path), eventTypes=types)
    receiver.modes[path] = "fail"  # nothing is delivered before both changes commit
    policy = {"lockout": {"maxFailures": 1, "windowMinutes": 15, "lockMinutes": 15}}
    current = (await http.get(f"/admin/v1/tenants/{shop.id}/settings", headers=shop.admin_headers)).json()
    changed = await http.put(
        f"/admin/v1/tenants/{shop.id}/settings", json={**current, **policy}, headers=shop.admin_headers
    )
    assert changed.status_code == 200, changed.text
    account = (await signup(http, shop))["customerAccount"]
    holder = await asyncpg.connect(servers.database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM customer_logins WHERE account_id = $1 FOR UPDATE", account["id"])
            wrong = {"username": account["emailAddress"], "password": "not the passphrase"}
            login = asyncio.create_task(http.post(TICKETS, json=wrong, headers=shop.app_headers))
            await wait_for_lock_waiter(holder)
            update = await http.put(f"{ACCOUNTS}/{account['id']}", json={"lastName": "Lo"}, headers=shop.app_headers)
            assert update.status_code == 200
        assert (await login).status_code == 401
    finally:
        await holder.close()
    receiver.modes[path] = "ok"

    await wait_delivered(http, shop, endpoint, 3)
    events = once_each(verified(receiver.at(path), endpoint["secret"]))
    assert of_account(events, account["id"]) == ["customer.updated", "customer.login_failed", "customer.locked"]


async def test_events_past_the_retention_go_with_their_deliveries_unless_one_still_waits(
    http: httpx.AsyncClient,
    shop: TenantFixture,
    receiver: Receiver,
    servers: Servers,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    delivered_path, failing_path = receiver.path(), receiver.path()
    delivered = await add_endpoint(http, shop, receiver.url(delivered_path), eventTypes=["customer.created"])
    receiver.modes[failing_path] = "fail"
    waiting = await add_endpoint(http, shop, receiver.url(failing_path), eventTypes=["customer.updated"])
    account = (await signup(http, shop))["customerAccount"]
    assert (await http.put(f"{ACCOUNTS}/{account['id']}", json={"lastName": "Lo"}, headers=shop.app_headers)).is_success
    await wait_delivered(http, shop, delivered, 1)
    await wait_for(lambda: len(receiver.at(failing_path)) >= 1, what="a failed attempt")
    conn = await asyncpg.connect(servers.database_url)
    try:  # both events become 31 days old; the default retention is 30
        aged = await conn.execute(
            "UPDATE webhook_events SET occurred_at = now() - interval '31 days' WHERE tenant_id = $1", shop.id
        )
        assert aged == "UPDATE 2"
    finally:
        await conn.close()
    # Pruning runs when a delivering process starts, and every 10 minutes after.
    pruner = start_service(servers, tmp_path_factory.mktemp("pruner") / "service.log", **HOOKED)
    try:
        for _ in range(200):
            if not await deliveries(http, shop, delivered):
                break
            await asyncio.sleep(0.05)
        assert await deliveries(http, shop, delivered) == [], "the delivered event outlived the retention"
        [still_waiting] = await deliveries(http, shop, waiting)
        assert still_waiting["state"] == "pending" and still_waiting["eventType"] == "customer.updated"
    finally:
        stop_service(pruner)
    replayed = await http.post(
        f"{endpoints_of(shop)}/{delivered['id']}/replay",
        json={"from": (datetime.now(UTC) - timedelta(days=40)).isoformat(), "to": datetime.now(UTC).isoformat()},
        headers=shop.admin_headers,
    )
    assert replayed.status_code == 200 and replayed.json() == {"deliveries": 0}, replayed.text


async def wait_for_lock_waiter(conn: asyncpg.Connection) -> None:
    """Until a transaction waits for a lock this connection's transaction holds."""
    for _ in range(400):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))"
        )
        if waiting:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("no transaction came to wait for the held row")


async def test_after_the_retry_window_a_delivery_fails_its_endpoint_until_one_succeeds(
    http: httpx.AsyncClient, shop: TenantFixture, receiver: Receiver, servers: Servers
) -> None:
    path = receiver.path()
    endpoint = await add_endpoint(http, shop, receiver.url(path))
    receiver.modes[path] = "fail"
    started = datetime.now(UTC) - timedelta(seconds=1)
    account = (await signup(http, shop))["customerAccount"]
    url = f"{ACCOUNTS}/{account['id']}"
    assert (await http.put(url, json={"lastName": "Lo"}, headers=shop.app_headers)).status_code == 200
    await wait_for(lambda: len(receiver.at(path)) >= 2, what="failed attempts")
    # 24 hours pass for the account's first delivery: its retry window began a day ago.
    conn = await asyncpg.connect(servers.database_url)
    try:
        await conn.execute(
            """UPDATE webhook_deliveries SET retry_from = now() - interval '25 hours'
               WHERE id = (SELECT min(id) FROM webhook_deliveries WHERE endpoint_id = $1)""",
            endpoint["id"],
        )
    finally:
        await conn.close()
    shown = f"{endpoints_of(shop)}/{endpoint['id']}"
    for _ in range(200):
        failing = (await http.get(shown, headers=shop.admin_headers)).json()["failingSince"]
        if failing:
            break
        await asyncio.sleep(0.05)
    assert failing, "the endpoint is not marked failing"
    [gave_up] = await deliveries(http, shop, endpoint, state="failed")
    assert gave_up["eventType"] == "customer.created" and gave_up["lastStatus"] == 500
    assert gave_up["lastError"] == "HTTP 500" and len(gave_up["responsePrefix"]) == 256  # of 5,000 bytes

    receiver.modes[path] = "ok"
    await wait_delivered(http, shop, endpoint, 1)  # the account's later event goes on, and succeeds
    assert (await http.get(shown, headers=shop.admin_headers)).json()["failingSince"] is None
    retried = await http.post(f"{shown}/deliveries/{gave_up['id']}/retry", headers=shop.admin_headers)
    assert retried.status_code == 200 and retried.json()["state"] == "pending", retried.text
    await wait_delivered(http, shop, endpoint, 2)
    missing = await http.post(f"{shown}/deliveries/999999999/retry", headers=shop.admin_headers)
    assert_problem(missing, 404, "WEBHOOK_DELIVERY_NOT_FOUND")

    window = {"from": started.isoformat(), "to": datetime.now(UTC).isoformat()}
    replayed = await http.post(f"{shown}/replay", json=window, headers=shop.admin_headers)
    assert replayed.status_code == 200 and replayed.json() == {"deliveries": 2}, replayed.text
    await wait_delivered(http, shop, endpoint, 4)
    events = verified(receiver.at(path), endpoint["secret"])
    assert len(once_each(events)) == 2 and sum(e["type"] == "customer.updated" for e in events) >= 2
    backwards = await http.post(
        f"{shown}/replay", json={"from": window["to"], "to": window["from"]}, headers=shop.admin_headers
    )
    assert_problem(backwards, 400, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("https://hooks.example.com/in", "", False),
        ("https://93.184.215.14:8443/in", "", False),
        ("http://hooks.example.com/in", "", True),  # plain HTTP: only to an allowed network
        ("ftp://hooks.example.com/in", "", True),
        ("https://user:secret@hooks.example.com/in", "", True),
        ("https://127.0.0.1/in", "", True),
        ("https://10.1.2.3/in", "", True),
        ("https://172.16.0.1/in", "", True),
        ("https://192.168.1.1/in", "", True),
        ("https://169.254.169.254/latest/meta-data", "", True),  # the cloud metadata service
        ("https://100.100.100.200/in", "", True),  # shared address space (another cloud's metadata)
        ("https://[::1]/in", "", True),
        ("https://[fd00:ec2::254]/in", "", True),
        ("https://[fe80::1]/in", "", True),
        ("https://[::ffff:127.0.0.1]/in", "", True),  # loopback in IPv6 clothing
        ("https://0.0.0.0/in", "", True),
        ("http://10.1.2.3/in", "10.1.0.0/16", False),
        ("http://10.2.2.3/in", "10.1.0.0/16", True),
    ],
)
def test_webhook_urls_may_only_name_public_addresses_unless_allowed(url: str, allowed: str, refused: bool) -> None:
    assert (AddressPolicy(allowed_networks(allowed)).url_problem(url) is not None) == refused


async def test_the_address_is_checked_after_dns_and_redirects_are_not_followed(receiver: Receiver) -> None:
    class Rebinding(AbstractResolver):
        """A name that resolves to a public address, then to the metadata service."""

        def __init__(self) -> None:
            self.answers = ["93.184.215.14", "169.254.169.254"]

        async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
            address = self.answers.pop(0)
            return [{"hostname": host, "host": address, "port": port, "family": family, "proto": 0, "flags": 0}]

        async def close(self) -> None:
            pass

    resolver = CheckedResolver(AddressPolicy(), plain_http=False, inner=Rebinding())
    assert (await resolver.resolve("rebind.example.com", 443))[0]["host"] == "93.184.215.14"
    with pytest.raises(BlockedAddress):
        await resolver.resolve("rebind.example.com", 443)

    strict = Sender(policy=AddressPolicy(), timeout_seconds=1, connections=2)
    loopback = Sender(policy=AddressPolicy(allowed_networks("127.0.0.0/8,::1/128")), timeout_seconds=1, connections=2)
    await strict.open()
    await loopback.open()
    try:
        path = receiver.path()
        by_name = await strict.post(f"https://localhost:{receiver.port}{path}", "{}", {})
        assert by_name.status is None and "not an address webhooks may reach" in (by_name.error or "")
        by_address = await strict.post(receiver.url(path), "{}", {})
        assert by_address.status is None and "not an address webhooks may reach" in (by_address.error or "")
        assert receiver.at(path) == []  # nothing left the service
        receiver.modes[path] = "redirect"
        redirected = await loopback.post(receiver.url(path), "{}", {})
        assert redirected.status == 307 and redirected.error == "HTTP 307" and not redirected.succeeded
        assert [r.path for r in receiver.received if r.path.startswith(path)] == [path]  # not followed
        receiver.modes[path] = "hang"
        hung = await loopback.post(receiver.url(path), "{}", {})
        assert hung.status is None and hung.error == "no answer within 1 s" and 900 <= hung.latency_ms < 2500
    finally:
        await strict.close()
        await loopback.close()


async def test_endpoints_are_checked_when_saved(http: httpx.AsyncClient, shop: TenantFixture) -> None:
    url, admin = endpoints_of(shop), shop.admin_headers
    metadata = await http.post(url, json={"url": "https://169.254.169.254/latest/meta-data"}, headers=admin)
    assert_problem(metadata, 400, "INVALID_WEBHOOK_URL")
    unknown = await http.post(url, json={"url": "https://h.example.com", "eventTypes": ["order.placed"]}, headers=admin)
    assert_problem(unknown, 400, "UNKNOWN_EVENT_TYPE")
    viewer = await http.post(url, json={"url": "https://h.example.com"}, headers=shop.viewer_headers)
    assert viewer.status_code == 403
    created = await http.post(url, json={"url": "https://h.example.com", "isEnabled": False}, headers=admin)
    endpoint = created.json()
    changed = await http.patch(
        f"{url}/{endpoint['id']}", json={"eventTypes": ["customer.login_failed"], "isEnabled": True}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["eventTypes"] == ["customer.login_failed"]
    assert [e["id"] for e in (await http.get(url, headers=shop.viewer_headers)).json()] == [endpoint["id"]]
    catalogue = (await http.get("/admin/v1/webhook-event-types", headers=admin)).json()
    assert [t["name"] for t in catalogue] == ALL_TYPES
    assert [t["name"] for t in catalogue if t["optIn"]] == ["customer.login_failed"]
    assert (await http.delete(f"{url}/{endpoint['id']}", headers=admin)).status_code == 204
    assert_problem(await http.get(f"{url}/{endpoint['id']}", headers=admin), 404, "WEBHOOK_ENDPOINT_NOT_FOUND")


async def test_a_reused_refresh_token_is_told_as_a_revoked_session(
    http: httpx.AsyncClient, shop: TenantFixture, receiver: Receiver
) -> None:
    no_grace = {"refreshReuseGraceSeconds": 0}
    changed = await http.put(f"/admin/v1/tenants/{shop.id}/settings", json=no_grace, headers=shop.admin_headers)
    assert changed.status_code == 200, changed.text
    path = receiver.path()
    endpoint = await add_endpoint(http, shop, receiver.url(path), eventTypes=["session.revoked"])
    ticket = await signup(http, shop)
    refresh = {"refreshToken": ticket["refreshToken"]}
    assert (await http.put(f"{TICKETS}/refresh", params=refresh, headers=shop.app_headers)).status_code == 200
    assert (await http.put(f"{TICKETS}/refresh", params=refresh, headers=shop.app_headers)).status_code == 401
    await wait_for(lambda: len(receiver.at(path)) == 1)
    [event] = verified(receiver.at(path), endpoint["secret"])
    assert event["data"]["reason"] == "reuse_detected" and event["data"]["actor"] == {"type": "system", "id": "system"}
    assert event["data"]["accountId"] == ticket["customerAccount"]["id"]
