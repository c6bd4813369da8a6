"""Measure logins/s, refreshes/s and introspections/s against a multi-worker Gatehouse.

Starts real PostgreSQL and Redis (embedded, or DATABASE_URL / REDIS_URL), starts the service with
several worker processes exactly as `gatehouse serve` does, prepares accounts through the API, then
drives each operation with a small keep-alive HTTP/1.1 client for a fixed time. Next to the login
rate it prints Argon2id verifications/s with the same parameters on the same machine: the physical
limit of login. The table is printed and written into bench/README.md.

    python -m bench [--seconds 8] [--rounds 3] [--workers 2] [--accounts 64] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from bench import login_formats
from bench.harness import (
    THROUGHPUT_MARKER,
    Api,
    HttpConnection,
    bench_tenant,
    gatehouse,
    log,
    run_loop,
    write_readme_section,
)

PASSWORD = "benchmark passphrase 1"


@dataclass
class Result:
    name: str
    count: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000


async def measure(name: str, host: str, port: int, concurrency: int, seconds: float, make_call, rounds: int) -> Result:
    """The median of `rounds` runs by rate: on a shared 2-core machine single runs swing by ±20%."""
    runs = []
    for round_number in range(rounds):
        runs.append(await drive(name, host, port, concurrency, seconds, make_call))
        log(f"  {name} round {round_number + 1}/{rounds}: {runs[-1].rate:.0f}/s")
    return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]


async def drive(name: str, host: str, port: int, concurrency: int, seconds: float, make_call) -> Result:
    """Run `make_call(connection, worker_index)` in `concurrency` loops for `seconds`."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def loop(index: int) -> None:
        nonlocal errors
        connection = HttpConnection(host, port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = await make_call(connection, index)
            latencies.append(time.perf_counter() - started)
            errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    return Result(name, len(latencies) - errors, errors, time.perf_counter() - started, latencies)


def _argon2_burst(seconds: float) -> int:
    from argon2 import PasswordHasher, Type

    from service.platform.passwords import Argon2Parameters

    p = Argon2Parameters()
    hasher = PasswordHasher(time_cost=p.iterations, memory_cost=p.memory_kib, parallelism=p.parallelism, type=Type.ID)
    stored = hasher.hash(PASSWORD)
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hasher.verify(stored, PASSWORD)
        count += 1
    return count


def argon2_limit(seconds: float) -> float:
    """Verifications/s with every core busy: what login can never beat on this machine."""
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores) as pool:
        counts = list(pool.map(_argon2_burst, [seconds] * cores))
    return sum(counts) / seconds


async def prepare(host: str, port: int, admin: tuple[str, str], accounts: int) -> dict:
    api = Api(host, port)
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


async def run(args: argparse.Namespace, base_url: str) -> list[Result]:
    host, port = base_url.removeprefix("http://").split(":")
    port_number = int(port)
    setup = await prepare(host, port_number, (args.admin_user, args.admin_password), args.accounts)
    json_app = {**setup["app_headers"], "content-type": "application/json"}
    emails = setup["emails"]
    results = []

    log(f"logins for {args.seconds}s")
    tokens: list[dict] = []

    async def login(conn: HttpConnection, index: int) -> bool:
        email = emails[(index + len(tokens)) % len(emails)]
        status, raw = await conn.request(
            "POST",
            "/api/commerce/customer/authtickets",
            json_app,
            json.dumps({"username": email, "password": PASSWORD}).encode(),
        )
        if status == 200 and len(tokens) < 4096:
            tokens.append(json.loads(raw))
        return status == 200

    results.append(await measure("login", host, port_number, args.login_concurrency, args.seconds, login, args.rounds))

    log(f"refreshes for {args.seconds}s")
    chains = [t["refreshToken"] for t in tokens[: args.concurrency]]

    async def refresh(conn: HttpConnection, index: int) -> bool:
        query = urlencode({"refreshToken": chains[index], "responseFields": "refreshToken"})
        status, raw = await conn.request(
            "PUT", f"/api/commerce/customer/authtickets/refresh?{query}", setup["app_headers"]
        )
        if status == 200:
            chains[index] = json.loads(raw)["refreshToken"]
        return status == 200

    results.append(
        await measure(
            "refresh", host, port_number, min(args.concurrency, len(chains)), args.seconds, refresh, args.rounds
        )
    )

    log(f"introspections for {args.seconds}s")
    fresh = [t["accessToken"] for t in tokens[args.concurrency :]] or [t["accessToken"] for t in tokens]
    introspect_headers = {
        "authorization": f"Basic {setup['basic']}",
        "content-type": "application/x-www-form-urlencoded",
    }
    path = f"/tenants/{setup['tenant']}/oauth2/introspect"

    async def introspect(conn: HttpConnection, index: int) -> bool:
        status, raw = await conn.request(
            "POST", path, introspect_headers, urlencode({"token": fresh[index % len(fresh)]}).encode()
        )
        return status == 200 and raw.startswith(b'{"active":true')

    results.append(
        await measure("introspection", host, port_number, args.concurrency, args.seconds, introspect, args.rounds)
    )
    return results


def render(results: list[Result], argon2: float, args: argparse.Namespace) -> str:
    goals = {
        "login": f">= {0.85 * argon2:.0f}/s (85% of Argon2)",
        "refresh": ">= 1500/s, p99 < 50 ms",
        "introspection": ">= 2500/s, p99 < 50 ms",
    }
    rows = [
        (
            f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, {args.workers} service workers; "
            f"median of {args.rounds} rounds of {args.seconds:.0f} s per operation, "
            f"{args.concurrency} concurrent connections ({args.login_concurrency} for logins)."
        ),
        "",
        "| operation | per second | p50 ms | p99 ms | errors | goal |",
        "|---|---:|---:|---:|---:|---|",
        f"| Argon2id verify (m=19 MiB, t=2, p=1), all cores | {argon2:.0f} | | | | physical limit of login |",
    ]
    rows.extend(
        f"| {r.name} | {r.rate:.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} | {r.errors} "
        f"| {goals[r.name]} |"
        for r in results
    )
    return "\n".join(rows)


def main() -> int:
    if sys.argv[1:2] == ["import"]:
        from bench.imports import main as import_main

        return import_main(sys.argv[2:])
    if sys.argv[1:2] == ["sizing"]:
        from bench.sizing import main as sizing_main

        return sizing_main(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "command",
        nargs="?",
        default="throughput",
        choices=("throughput", "login-formats"),
        help="throughput (the default): logins, refreshes, introspections per second; login-formats: the time of "
        "a failed login for an unknown user and for an account of each password hash format",
    )
    parser.add_argument("--seconds", type=float, default=8, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per operation; the median round is reported")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--login-concurrency", type=int, default=8)
    parser.add_argument("--logins", type=int, default=15, help="login-formats: failed logins per kind of account")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md as it is")
    args = parser.parse_args()
    args.admin_user, args.admin_password = "bench-admin", secrets.token_urlsafe(18)
    if args.command == "login-formats":
        return login_formats.main(args)

    with gatehouse(args.workers, (args.admin_user, args.admin_password)) as (base_url, _):
        results = run_loop(run(args, base_url))
    log("measuring Argon2id verifications/s on all cores")
    table = render(results, argon2_limit(min(args.seconds, 5)), args)
    print(table)
    if not args.no_readme:
        write_readme_section(THROUGHPUT_MARKER, table)
        log("wrote bench/README.md")
    failed = [r.name for r in results if r.errors]
    if failed:
        log(f"errors during: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
