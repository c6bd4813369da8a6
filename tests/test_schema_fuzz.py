"""openapi.yaml is true of the running service: schemathesis generates requests for every operation, sends them
with valid credentials of the right kind, and checks each answer against the contract.

The run has PostgreSQL, Redis and Gatehouse of its own (generated deletes reach whatever ids they guess), a
fixed seed, and a budget of GATEHOUSE_FUZZ_EXAMPLES examples per operation (`make fuzz` raises it).
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from service.platform.embedded import embedded_servers
from tests.conftest import ROOT, Mailbox, Servers, start_service, stop_service

SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml")
# The import route's body is newline-delimited JSON, documented as a string: sent as the text it is.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("GATEHOUSE_FUZZ_EXAMPLES", "12"))
SHOP_HOST = "fuzz-shop.example.test"
PASSWORD = "fuzzing-password-1"
# Operations that end the credential they are called with (or every session of its customer) are followed by a
# fresh sign-in, so that the operations after them still run as a signed-in caller.
SPENDS_ITS_CREDENTIAL = {
    "adminSignOut",
    "kiboEndAllSessions",
    "magentoRevokeCustomerToken",
    "magentoRevokeCustomerTokenInStore",
    "magentoChangeMyPassword",
    "magentoChangeMyPasswordInStore",
}
# Ids the generated requests guess (small numbers, boundaries) must not be the fuzz run's own tenant,
# application, admin or customer: every sequence starts far from them.
FIRST_ID = 700_001


@dataclass
class FuzzTarget:
    base_url: str
    admin: tuple[str, str]  # the platform admin
    magento_admin: tuple[str, str]  # an admin of the tenant, signing in through Magento's route
    client_id: str
    client_secret: str
    customer_email: str
    tokens: dict[str, str]  # security scheme name (or "magento:" and the name) -> credential

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def fresh_tokens(self) -> dict[str, str]:
        with self.http() as http:
            return _sign_in(http, self)


def _sign_in(http: httpx.Client, target: FuzzTarget) -> dict[str, str]:
    admin = http.post("/admin/v1/token", json={"username": target.admin[0], "password": target.admin[1]})
    app = http.post(
        "/api/platform/applications/authtickets/oauth",
        json={"grant_type": "client_credentials", "client_id": target.client_id, "client_secret": target.client_secret},
    )
    login = http.post(
        "/api/commerce/customer/authtickets",
        json={"username": target.customer_email, "password": PASSWORD},
        headers={"Authorization": f"Bearer {app.json()['access_token']}"},
    )
    shop = {"Host": SHOP_HOST}
    user, password = target.magento_admin
    magento_admin = http.post(
        "/rest/V1/integration/admin/token", json={"username": user, "password": password}, headers=shop
    )
    magento_customer = http.post(
        "/rest/V1/integration/customer/token",
        json={"username": target.customer_email, "password": PASSWORD},
        headers=shop,
    )
    for answer in (admin, app, login, magento_admin, magento_customer):
        assert answer.status_code == 200, answer.text
    return {
        "magento:adminBearer": magento_admin.json(),
        "magento:customerBearer": magento_customer.json(),
        "adminBearer": admin.json()["accessToken"],
        "appBearer": app.json()["access_token"],
        "appClaims": app.json()["access_token"],
        "customerClaims": login.json()["accessToken"],
        "customerBearer": login.json()["accessToken"],
    }


def _move_sequences(database_url: str) -> None:
    async def move() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("SELECT setval(c.oid::regclass, $1) FROM pg_class c WHERE c.relkind = 'S'", FIRST_ID)
        finally:
            await conn.close()

    asyncio.run(move())


def _prepare(http: httpx.Client, target: FuzzTarget) -> None:
    """A tenant with one application of every behavior, a Magento host name, and a customer with a login."""
    signed_in = http.post("/admin/v1/token", json={"username": target.admin[0], "password": target.admin[1]})
    root = {"Authorization": f"Bearer {signed_in.json()['accessToken']}"}
    tenant = http.post("/admin/v1/tenants", json={"name": "fuzz"}, headers=root).json()
    settings_body = {"hostNames": [SHOP_HOST], "password": {"minLength": 8, "rejectCommon": False}}
    changed = http.put(f"/admin/v1/tenants/{tenant['id']}/settings", json=settings_body, headers=root)
    assert changed.status_code == 200, changed.text
    behaviors = [b["name"] for b in http.get("/admin/v1/behaviors", headers=root).json()]
    app = http.post(
        f"/admin/v1/tenants/{tenant['id']}/applications", json={"name": "fuzz", "behaviors": behaviors}, headers=root
    ).json()
    target.client_id, target.client_secret = app["clientId"], app["clientSecret"]
    user, password = target.magento_admin
    admin_user = {"username": user, "password": password, "role": "admin"}
    created = http.post(f"/admin/v1/tenants/{tenant['id']}/admin-users", json=admin_user, headers=root)
    assert created.status_code == 201, created.text
    app_token = http.post(
        "/api/platform/applications/authtickets/oauth",
        json={"grant_type": "client_credentials", "client_id": target.client_id, "client_secret": target.client_secret},
    ).json()["access_token"]
    signup = http.post(
        "/api/commerce/customer/accounts/Add-Account-And-Login",
        json={"account": {"emailAddress": target.customer_email}, "password": PASSWORD},
        headers={"Authorization": f"Bearer {app_token}"},
    )
    assert signup.status_code == 200, signup.text


@pytest.fixture(scope="module")
def fuzz_target(mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory, run_cli) -> Iterator[FuzzTarget]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with embedded_servers(data_dir, None, None) as urls:
        assert urls.database_url and urls.redis_url
        service = start_service(
            Servers(urls.database_url, urls.redis_url),
            data_dir / "service.log",
            SMTP_URL=f"smtp://127.0.0.1:{mailbox.port}",
        )
        try:
            _move_sequences(urls.database_url)
            env = {"DATABASE_URL": urls.database_url, "REDIS_URL": urls.redis_url}
            admin = ("fuzz-root", secrets.token_urlsafe(16))
            created = run_cli(
                "admin", "create", "--username", admin[0], "--password-stdin", stdin=admin[1] + "\n", env=env
            )
            assert created.returncode == 0, created.stderr
            target = FuzzTarget(
                service.base_url,
                admin,
                ("fuzz-shop-admin", secrets.token_urlsafe(16)),
                client_id="",
                client_secret="",
                customer_email="fuzz-customer@example.com",
                tokens={},
            )
            with target.http() as http:
                _prepare(http, target)
                target.tokens = _sign_in(http, target)
            yield target
        finally:
            stop_service(service)
    unhandled = [line for line in service.log_text().splitlines() if "unhandled error" in line]
    assert not unhandled, "\n".join(unhandled)


def _headers(case: schemathesis.Case, target: FuzzTarget) -> dict[str, str]:
    """The credentials of the operation's first security requirement, and the Magento store's host."""
    tokens = target.tokens
    headers: dict[str, str] = {}
    requirements = case.operation.definition.raw.get("security") or [{}]
    surface = "magento:" if case.path.startswith("/rest/") else ""
    for scheme in requirements[0]:
        if scheme == "appClaims":
            headers["x-vol-app-claims"] = tokens[scheme]
        elif scheme == "customerClaims":
            headers["x-vol-user-claims"] = tokens[scheme]
        elif scheme == "clientBasic":
            basic = base64.b64encode(f"{target.client_id}:{target.client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        else:
            headers["Authorization"] = f"Bearer {tokens.get(surface + scheme, tokens[scheme])}"
    if case.path.startswith("/rest/"):
        headers["Host"] = SHOP_HOST
    return headers


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_in_the_contract(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    response = case.call(base_url=fuzz_target.base_url, headers=_headers(case, fuzz_target))
    if case.operation.definition.raw.get("operationId") in SPENDS_ITS_CREDENTIAL:
        fuzz_target.tokens = fuzz_target.fresh_tokens()
    case.validate_response(response, checks=CHECKS)
