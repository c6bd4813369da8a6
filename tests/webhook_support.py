"""What the webhook tests share: a real HTTP receiver on loopback, and the calls that make and read events.

The receiver (aiohttp.web) runs on a thread of its own so that it answers even while a test blocks its own
event loop (starting a service does). Each test listens on a path of its own and tells the receiver how to
answer there: 200, 500, a redirect, or not at all within the service's timeout."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import httpx
from aiohttp import web
from standardwebhooks import Webhook

from service.platform.config import load_settings
from tests.conftest import TenantFixture, free_port, unique


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str
    at: float


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)  # path -> "ok" (default), "fail", "hang", "redirect"
    hang_seconds: float = 3.0

    def path(self) -> str:
        return f"/hook/{unique('t')}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        self.received.append(Received(request.path, dict(request.headers), body, time.monotonic()))
        mode = self.modes.get(request.path, "ok")
        if mode == "hang":
            await asyncio.sleep(self.hang_seconds)
        if mode == "fail":
            return web.Response(status=500, text="x" * 5000)  # more than the service keeps of it
        if mode == "redirect":
            raise web.HTTPTemporaryRedirect(f"{request.path}/elsewhere")
        return web.Response(text="ok")

    def start(self) -> None:
        self.port = free_port()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        assert ready.wait(10), "the webhook receiver did not start"

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        ready.set()
        loop.run_forever()


def verified(received: list[Received], secret: str) -> list[dict]:
    """Every delivery checked with the Standard Webhooks library, unmodified; their bodies, parsed."""
    events = []
    for delivery in received:
        event = Webhook(secret).verify(delivery.body, delivery.headers)
        assert event["id"] == delivery.headers["webhook-id"]
        events.append(event)
    return events


def once_each(events: list[dict]) -> list[dict]:
    """What a receiver keeps after dropping duplicates by event id (the idempotency key), in arrival order."""
    seen: dict[str, dict] = {}
    for event in events:
        seen.setdefault(event["id"], event)
    return list(seen.values())


async def wait_for(condition, seconds: float = 20.0, what: str = "the deliveries") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not arrive in {seconds} s")
        await asyncio.sleep(0.05)


ACCOUNTS = "/api/commerce/customer/accounts"
TICKETS = "/api/commerce/customer/authtickets"
PASSWORD = "a perfectly good passphrase"
# A service that delivers to loopback (plain HTTP included) and retries fast.
HOOKED = {
    "GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "GATEHOUSE_WEBHOOK_BACKOFF_SECONDS": "0.2",
    "GATEHOUSE_WEBHOOK_TIMEOUT_SECONDS": "1",
    "GATEHOUSE_WEBHOOK_WORKERS": "1",
}


def allowed_networks(raw: str) -> tuple:
    """GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS as the service reads it."""
    return load_settings({"GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS": raw}).webhook_allowed_networks


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


async def wait_delivered(http: httpx.AsyncClient, tenant: TenantFixture, endpoint: dict, count: int) -> list[dict]:
    """The endpoint's deliveries once `count` of them are delivered."""
    listed: list[dict] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = await deliveries(http, tenant, endpoint)
        if sum(d["state"] == "delivered" for d in listed) >= count:
            return listed
        await asyncio.sleep(0.1)
    raise AssertionError(f"not {count} deliveries delivered: {listed}")
