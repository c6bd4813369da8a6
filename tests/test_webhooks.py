"""Webhooks end to end: real services deliver to a real receiver on loopback, every delivery verified with the
`standardwebhooks` library from PyPI, unmodified.

The services here allow loopback (GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS), plain HTTP included, and retry fast.
Every other service the suite starts delivers nothing (conftest), so none of them competes for these
deliveries with settings of its own.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import httpx
import pytest

from service.twofactor.totp import totp
from tests.conftest import (
    Servers,
    ServiceProcess,
    TenantFixture,
    admin_token,
    bearer,
    free_port,
    make_tenant,
    start_service,
    stop_service,
    unique,
)
from tests.magento_support import make_magento_tenant
from tests.webhook_receiver import Receiver, verified, wait_for

ACCOUNTS = "/api/commerce/customer/accounts"
TICKETS = "/api/commerce/customer/authtickets"
PASSWORD = "a perfectly good passphrase"
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
HOOKED = {
    "GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "GATEHOUSE_WEBHOOK_BACKOFF_SECONDS": "0.2",
    "GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS": "1",
    "GATEHOUSE_WEBHOOK_WORKERS": "1",
}


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


def endpoints_of(tenant: TenantFixture) -> str:
    return f"/admin/v1/tenants/{tenant.id}/webhook-endpoints"


async def add_endpoint(http: httpx.AsyncClient, tenant: TenantFixture, url: str, **body: object) -> dict:
    created = await http.post(endpoints_of(tenant), json={"url": url, **body}, headers=tenant.admin_headers)
    assert created.status_code == 201, created.text
    return created.json()


async def deliveries(http: httpx.AsyncClient, tenant: TenantFixture, endpoint: dict, **query: object) -> list[dict]:
    listed = await http.get(
        f"{endpoints_of(tenant)}/{endpoint['id']}/deliveries", params=query, headers=tenant.admin_headers
    )
    assert listed.status_code == 200, listed.text
    return listed.json()


async def signup(http: httpx.AsyncClient, tenant: TenantFixture, **account: object) -> dict:
    body = {"account": {"emailAddress": f"{unique('c')}@example.com", **account}, "password": PASSWORD}
    created = await http.post(f"{ACCOUNTS}/Add-Account-And-Login", json=body, headers=tenant.app_headers)
    assert created.status_code == 200, created.text
    return created.json()


async def log_in(http: httpx.AsyncClient, tenant: TenantFixture, email: str, password: str = PASSWORD) -> dict:
    response = await http.post(TICKETS, json={"username": email, "password": password}, headers=tenant.app_headers)
    assert response.status_code == 200, response.text
    return response.json()


def of_account(events: list[dict], account_id: int) -> list[str]:
    return [e["type"] for e in events if e["data"]["accountId"] == account_id]


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
