"""Per-request context: a request id, the client's address, and one access-log line per request."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from service.platform.metrics import metrics

log = logging.getLogger("gatehouse.access")

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def request_id_of(scope: Scope) -> str:
    request_id: str = scope.get("state", {}).get("request_id", "")
    return request_id


def client_address_of(scope: Scope) -> str | None:
    address: str | None = scope.get("state", {}).get("client_address")
    return address


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def resolve_client_address(scope: Scope, trusted_proxies: Iterable[Network]) -> str | None:
    """The peer address, or the X-Forwarded-For hop just before our trusted proxies.

    Forwarded headers are believed only from configured proxies: otherwise any client could pick
    the address that per-address throttling counts against.
    """
    peer = scope.get("client")
    address = peer[0] if peer and _is_ip(peer[0]) else None
    proxies = tuple(trusted_proxies)
    if not proxies or address is None:
        return address
    forwarded = _header(scope, b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.split(",")] if forwarded else []
    while address is not None and _is_trusted(address, proxies) and hops:
        hop = hops.pop()
        address = hop if _is_ip(hop) else None
    return address


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


class RequestContextMiddleware:
    """Pure ASGI middleware: cheaper than a Litestar middleware class and sees every response."""

    def __init__(self, app: ASGIApp, trusted_proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _INCOMING_ID.match(incoming) else secrets.token_hex(12)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_address"] = resolve_client_address(scope, self.trusted_proxies)
        started = time.perf_counter()
        status = 500
        id_header = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = list(message.get("headers", ()))
                headers.append((b"x-request-id", id_header))
                headers.append((b"x-vol-correlation", id_header))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _record(scope, request_id, status, time.perf_counter() - started)


def _record(scope: HTTPScope, request_id: str, status: int, seconds: float) -> None:
    """One access-log line and one latency sample per request."""
    # The route template, never the raw path or query: both can carry tokens.
    route = scope.get("path_template", "(unrouted)")
    metrics().requests.labels(route, scope["method"], str(status)).observe(seconds)
    log.info(
        "request",
        extra={
            "request_id": request_id,
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": scope["state"]["client_address"],
        },
    )
