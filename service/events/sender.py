"""One webhook POST, as the address policy allows: checked after DNS, no redirects, a short timeout, and only
the first bytes of the answer read.

aiohttp connects to the addresses its resolver returns, so the resolver here is where the policy is
applied: the addresses checked are the addresses connected to, and a name that rebinds to an internal
address between two lookups is refused at the second. A URL whose host is an address literal never reaches
a resolver, so it is checked before the request. There is one client session per scheme, because plain
HTTP may only reach the allowed networks.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from service.events.ssrf import AddressPolicy, BlockedAddress, ip_literal

RESPONSE_PREFIX_BYTES = 256  # what is kept of a receiver's answer, for the admin API


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    error: str | None
    response_prefix: str | None
    latency_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class CheckedResolver(AbstractResolver):
    """Every address a lookup (`inner`: the system's getaddrinfo by default) returns must pass the policy."""

    def __init__(self, policy: AddressPolicy, *, plain_http: bool, inner: AbstractResolver | None = None) -> None:
        self._policy, self._plain_http = policy, plain_http
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._inner.resolve(host, port, family)
        for address in addresses:
            self._policy.require(address["host"], plain_http=self._plain_http)
        return addresses

    async def close(self) -> None:
        await self._inner.close()


class Sender:
    def __init__(self, *, policy: AddressPolicy, timeout_seconds: float, connections: int) -> None:
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._connections = connections
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    async def open(self) -> None:
        """In the event loop that sends: aiohttp binds its sessions to it."""
        self._sessions = {"https": self._session(plain_http=False), "http": self._session(plain_http=True)}

    def _session(self, *, plain_http: bool) -> aiohttp.ClientSession:
        resolver = CheckedResolver(self._policy, plain_http=plain_http)
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=resolver, limit=self._connections),
            timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # no proxy from the environment: it would connect to addresses nobody checked
            headers={"user-agent": "Gatehouse-Webhooks/1", "content-type": "application/json"},
        )

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions = {}

    async def post(self, url: str, body: str, headers: dict[str, str]) -> Answer:
        started = time.perf_counter()
        status, error, prefix = None, None, None
        try:
            status, prefix = await self._post(url, body, headers)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except TimeoutError:
            error = f"no answer within {self._timeout.total:g} s"
        except BlockedAddress as exc:
            error = str(exc)
        except aiohttp.ClientConnectorDNSError as exc:
            error = str(exc.__cause__) if isinstance(exc.__cause__, BlockedAddress) else "DNS lookup failed"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        return Answer(status, error, prefix, round((time.perf_counter() - started) * 1000))

    async def _post(self, url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        plain_http = parts.scheme == "http"
        literal = ip_literal(parts.hostname or "")
        if literal is not None:
            self._policy.require(str(literal), plain_http=plain_http)
        session = self._sessions["http" if plain_http else "https"]
        async with session.post(url, data=body.encode(), headers=headers, allow_redirects=False) as response:
            prefix = await response.content.read(RESPONSE_PREFIX_BYTES)
            return response.status, prefix.decode("utf-8", "replace")
