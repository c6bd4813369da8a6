"""A real HTTP receiver for webhooks on loopback (aiohttp.web), on a thread of its own so that it answers even
while a test blocks its own event loop (starting a service does). Each test listens on a path of its own and
tells the receiver how to answer there: 200, 500, a redirect, or not at all within the service's timeout."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web
from standardwebhooks import Webhook

from tests.conftest import free_port, unique


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
