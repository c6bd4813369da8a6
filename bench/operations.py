"""What `python -m bench` drives: logins, refresh rotations, introspections of opaque and JWT access tokens, the
customer's own account, and the framework's floor, each at the connection counts the goals name."""

from __future__ import annotations

import argparse
import json
import secrets
from collections import deque
from collections.abc import Callable
from urllib.parse import urlencode

from bench.argon2_limit import Argon2Limit, Argon2Rounds
from bench.harness import Api, HttpConnection, bench_tenant, log
from bench.processes import CpuMeter
from bench.throughput import Call, Result, Target, alternate, measure

PASSWORD = "benchmark passphrase 1"
ARGON2_SECONDS = 4  # one round of the Argon2 limit, before each login round
INTROSPECTED = (("opaque", "accessToken"), ("JWT", "jwtAccessToken"))  # the goal compares their rates


async def prepare(api: Api, admin: tuple[str, str], accounts: int) -> dict:
    setup = await bench_tenant(api, admin)
    emails = []
    for i in range(accounts):
        email = f"bench-{i}-{secrets.token_hex(3)}@example.com"
        await api.call(
            "POST",
            "/api/commerce/customer/accounts/Add-Account-And-Login",
            {"account": {"emailAddress": email}, "password": PASSWORD},
            setup["app_headers"],
        )
        emails.append(email)
        if (i + 1) % 16 == 0:
            log(f"prepared {i + 1}/{accounts} accounts")
    return {**setup, "emails": emails}


class Scenario:
    """The calls of one run, sharing what they need: the tenant, its accounts, and the tickets logins returned."""

    def __init__(self, setup: dict) -> None:
        self.setup = setup
        self.app_json = {**setup["app_headers"], "content-type": "application/json"}
        self.tickets: deque[dict] = deque(maxlen=4096)  # the newest: access tokens live 15 minutes
        self.logins = 0

    async def login(self, conn: HttpConnection, index: int) -> bool:
        emails = self.setup["emails"]
        self.logins += 1
        body = json.dumps({"username": emails[(index + self.logins) % len(emails)], "password": PASSWORD}).encode()
        status, raw = await conn.request("POST", "/api/commerce/customer/authtickets", self.app_json, body)
        if status == 200:
            self.tickets.append(json.loads(raw))
        return status == 200

    def refresh(self, connections: int) -> Call:
        """Each connection follows its own rotation chain: every answer's refresh token is the next request's."""
        chains = [self.tickets.pop()["refreshToken"] for _ in range(connections)]  # each ticket rotates once only

        async def call(conn: HttpConnection, index: int) -> bool:
            query = urlencode({"refreshToken": chains[index], "responseFields": "refreshToken"})
            path = f"/api/commerce/customer/authtickets/refresh?{query}"
            status, raw = await conn.request("PUT", path, self.setup["app_headers"])
            if status == 200:
                chains[index] = json.loads(raw)["refreshToken"]
            return status == 200

        return call

    def introspect(self, field: str) -> Call:
        """RFC 7662 introspection of the tickets' `field` (accessToken or jwtAccessToken), by a client with Basic
        credentials: the tickets no refresh chain took, all still active."""
        tokens = [ticket[field] for ticket in self.tickets]
        headers = {"authorization": f"Basic {self.setup['basic']}", "content-type": "application/x-www-form-urlencoded"}
        path = f"/tenants/{self.setup['tenant']}/oauth2/introspect"

        async def call(conn: HttpConnection, index: int) -> bool:
            body = urlencode({"token": tokens[(index * 7919 + conn.used) % len(tokens)]}).encode()
            status, raw = await conn.request("POST", path, headers, body)
            return status == 200 and raw.startswith(b'{"active":true')

        return call

    def current_account(self) -> Call:
        """`GET …/accounts/current` as Kibo's storefront SDKs send it: the app token, the customer's in
        x-vol-user-claims."""
        tokens = [ticket["accessToken"] for ticket in self.tickets]
        path = "/api/commerce/customer/accounts/current"

        async def call(conn: HttpConnection, index: int) -> bool:
            headers = {**self.setup["app_headers"], "x-vol-user-claims": tokens[index % len(tokens)]}
            status, _ = await conn.request("GET", path, headers)
            return status == 200

        return call


async def health(conn: HttpConnection, index: int) -> bool:
    status, _ = await conn.request("GET", "/health/live")
    return status == 200


async def run(args: argparse.Namespace, host: str, port: int, meter: CpuMeter) -> tuple[Argon2Limit, list[Result]]:
    """The Argon2 limit (the median of its rounds, each taken with the service idle right before a login round)
    and every operation's result."""
    api = Api(host, port)
    scenario = Scenario(await prepare(api, (args.admin_user, args.admin_password), args.accounts))
    argon2 = Argon2Rounds()

    async def limit_round() -> Argon2Limit:
        limit = await argon2.measure(ARGON2_SECONDS)
        log(f"  Argon2 limit {limit.rate:.1f}/s, {limit.cpu_ms:.2f} ms CPU per verification")
        return limit

    target = Target(host, port, args.seconds, meter)

    async def timed(name: str, connections: int, call: Call, before: Callable | None = None) -> Result:
        log(f"{name} at {connections} connections, {args.rounds} rounds of {args.seconds:.0f} s")
        return await measure(name, connections, call, target, args.rounds, before)

    try:
        results = [await timed("login", n, scenario.login, limit_round) for n in args.login_connections]
    finally:
        argon2.close()
    results += [await timed("refresh", n, scenario.refresh(n)) for n in args.connections]
    for n in args.connections:
        log(f"introspection of opaque and of JWT access tokens at {n} connections, in turns, {args.rounds} rounds each")
        introspections = [(f"introspection, {kind}", scenario.introspect(field)) for kind, field in INTROSPECTED]
        results += await alternate(introspections, n, target, args.rounds)
    results.append(await timed("accounts/current", args.connections[0], scenario.current_account()))
    results.append(await timed("health/live", args.connections[0], health))
    return argon2.median(), results
