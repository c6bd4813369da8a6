"""Test harness: real PostgreSQL and Redis, and the real service as a subprocess, over HTTP.

With DATABASE_URL and REDIS_URL set, those servers are used; otherwise embedded ones start in a
temporary directory for this run. The service is started exactly as `gatehouse serve` runs in
production, on a free port, and every test talks to it through HTTP. Each test makes its own
tenant, so tests never see each other's data and can run against a shared database.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from service.platform.embedded import embedded_servers

# The real Redis Sentinel and Cluster topologies: fixtures `redis_sentinel` and `redis_cluster`, module-scoped.
pytest_plugins = ["tests.redis_topologies"]

ROOT = Path(__file__).resolve().parent.parent
# Every service the tests start seals signing keys and TOTP seeds with this key.
SECRETS_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Servers:
    database_url: str
    redis_url: str


@dataclass
class ServiceProcess:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    with (
        tempfile.TemporaryDirectory(prefix="gatehouse-test-") as data_dir,
        embedded_servers(Path(data_dir), database_url, redis_url) as urls,
    ):
        assert urls.database_url and urls.redis_url
        yield Servers(urls.database_url, urls.redis_url)


@pytest.fixture
async def fresh_database(servers: Servers) -> AsyncIterator[str]:
    """The URL of an empty database on the test PostgreSQL server, dropped afterwards."""
    name = f"gh_fresh_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(servers.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(servers.database_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    admin = await asyncpg.connect(servers.database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(servers: Servers, log_path: Path, *, ready_status: int = 200, **extra_env: str) -> ServiceProcess:
    """The service, once /health/ready answers `ready_status` (503: up, but its backends unreachable)."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "GATEHOUSE_LOG_LEVEL": "INFO",
        "GATEHOUSE_SECRETS_KEY": SECRETS_KEY,
        # Services share the test database: only those a webhook test starts for itself deliver webhooks.
        "GATEHOUSE_WEBHOOK_WORKERS": "0",
        **extra_env,
    }
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=3).status_code == ready_status:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the service did not become ready:\n{log_path.read_text()}")
        time.sleep(0.1)
    return ServiceProcess(base_url, env, process, log_path)


def stop_service(service: ServiceProcess) -> int:
    service.process.terminate()
    try:
        return service.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        service.process.kill()
        return service.process.wait()


class Mailbox:
    """A real SMTP server (aiosmtpd) in the test process; the service sends its mail here."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler protocol
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def wait_for(self, to: str, after: int = 0, timeout: float = 10.0) -> email.message.EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages[after:]:
                if message["To"] == to:
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} arrived")

    def sent_to(self, to: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == to]


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def service(servers: Servers, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log_path = tmp_path_factory.mktemp("service") / "service.log"
    running = start_service(servers, log_path, SMTP_URL=f"smtp://127.0.0.1:{mailbox.port}")
    yield running
    stop_service(running)


@pytest.fixture(scope="session")
def run_cli(servers: Servers):
    """Run the `gatehouse` command line against the test servers."""

    def run(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "DATABASE_URL": servers.database_url, "REDIS_URL": servers.redis_url, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "service", *args],
            cwd=ROOT,
            env=full_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,  # the caller asserts on the exit code
        )

    return run


@pytest.fixture
async def client(service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as http:
        yield http


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def platform_admin(run_cli) -> tuple[str, str]:
    username, password = unique("root"), secrets.token_urlsafe(16)
    result = run_cli("admin", "create", "--username", username, "--password-stdin", stdin=password + "\n")
    assert result.returncode == 0, result.stderr
    return username, password


async def admin_token(client: httpx.AsyncClient, username: str, password: str, tenant_id: int | None = None) -> str:
    body: dict[str, object] = {"username": username, "password": password}
    if tenant_id is not None:
        body["tenantId"] = tenant_id
    response = await client.post("/admin/v1/token", json=body)
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def platform_headers(client: httpx.AsyncClient, platform_admin: tuple[str, str]) -> dict[str, str]:
    return bearer(await admin_token(client, *platform_admin))


@dataclass
class TenantFixture:
    id: int
    default_site_id: int
    admin_headers: dict[str, str]
    viewer_headers: dict[str, str]
    client_id: str
    client_secret: str
    app_headers: dict[str, str]


async def make_tenant(
    client: httpx.AsyncClient, platform_headers: dict[str, str], behaviors: list[str] | None = None
) -> TenantFixture:
    response = await client.post("/admin/v1/tenants", json={"name": unique("tenant")}, headers=platform_headers)
    assert response.status_code == 201, response.text
    tenant = response.json()
    tid = tenant["id"]
    headers = {}
    for role in ("admin", "viewer"):
        username, password = unique(role), secrets.token_urlsafe(16)
        created = await client.post(
            f"/admin/v1/tenants/{tid}/admin-users",
            json={"username": username, "password": password, "role": role},
            headers=platform_headers,
        )
        assert created.status_code == 201, created.text
        headers[role] = bearer(await admin_token(client, username, password, tid))
    if behaviors is None:
        behaviors = (await client.get("/admin/v1/behaviors", headers=platform_headers)).json()
        behaviors = [b["name"] for b in behaviors]
    app = await client.post(
        f"/admin/v1/tenants/{tid}/applications",
        json={"name": "storefront", "behaviors": behaviors},
        headers=platform_headers,
    )
    assert app.status_code == 201, app.text
    app_body = app.json()
    token = await client.post(
        "/api/platform/applications/authtickets/oauth",
        json={
            "client_id": app_body["clientId"],
            "client_secret": app_body["clientSecret"],
            "grant_type": "client_credentials",
        },
    )
    assert token.status_code == 200, token.text
    return TenantFixture(
        id=tid,
        default_site_id=tenant["defaultSiteId"],
        admin_headers=headers["admin"],
        viewer_headers=headers["viewer"],
        client_id=app_body["clientId"],
        client_secret=app_body["clientSecret"],
        app_headers=bearer(token.json()["access_token"]),
    )


@pytest.fixture
async def tenant(client: httpx.AsyncClient, platform_headers: dict[str, str]) -> TenantFixture:
    return await make_tenant(client, platform_headers)


@pytest.fixture
async def other_tenant(client: httpx.AsyncClient, platform_headers: dict[str, str]) -> TenantFixture:
    return await make_tenant(client, platform_headers)


async def sign_up(client: httpx.AsyncClient, tenant: TenantFixture, email: str, password: str) -> dict:
    """A customer account with a login, through Kibo's Add-Account-And-Login: its first auth ticket."""
    response = await client.post(
        "/api/commerce/customer/accounts/Add-Account-And-Login",
        json={"account": {"emailAddress": email}, "password": password},
        headers=tenant.app_headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """An RFC 9457 problem answer with a stable code, and nothing that looks like a stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and isinstance(body["code"], str) and body["requestId"]
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


def assert_kibo_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"message", "errorCode", "applicationName", "items", "additionalErrorData"}, body
    assert response.headers["x-vol-correlation"]
    if code is not None:
        assert body["errorCode"] == code, body
    assert "Traceback" not in response.text
    return body
