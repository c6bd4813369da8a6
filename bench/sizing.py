"""What an operation costs, counted on the servers: a sizing guide measured on this machine.

For each operation a customer-facing service calls (login, refresh with rotation, introspection of an opaque
and of a JWT access token, `GET …/accounts/current`) it drives a few hundred requests against a Gatehouse with
its own PostgreSQL and Redis and reads, over that window only:

- the service's CPU per request (every process of `gatehouse serve`, user + system time),
- Redis commands per request (`INFO commandstats`: commands inside Lua scripts count too, and the scripts),
- PostgreSQL statements per request (the statements the server logs while `log_statement = all`, in a second,
  shorter pass so that logging costs nothing in the first), transactions and rows written per request
  (`pg_stat_database`),

then writes 100,000 sessions the way a login does (the service's own `Sessions.create`, records copied from a
real login's session) and reports Redis memory per session: `used_memory` grown, and `MEMORY USAGE` summed over
every key they wrote. From these it prints what a given mix of rates and live sessions needs.

    python -m bench sizing [--requests 400] [--sessions 100000] [--workers 2] [--json] [--write-readme]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import asyncpg
import msgspec
from redis.asyncio import Redis

from bench.harness import (
    Api,
    HttpConnection,
    add_output_options,
    databases,
    log,
    run_loop,
    start_gatehouse,
    stop_gatehouse,
    write_readme_section,
)
from bench.operations import Scenario, prepare
from bench.processes import cpu_model, tree_cpu
from bench.throughput import Call
from service.platform.passwords import Argon2Parameters

SIZING_MARKER = "<!-- sizing results -->"
CONCURRENCY = 8
STATS_SETTLE_SECONDS = 11.0
STATEMENT_LINE = re.compile(rb"LOG:  (statement|execute [^:]*):")


@dataclass(frozen=True)
class Cost:
    operation: str
    requests: int
    cpu_ms: float  # service CPU per request
    redis_commands: float
    postgres_statements: float
    postgres_transactions: float
    postgres_rows_written: float


@dataclass(frozen=True)
class SessionMemory:
    sessions: int
    used_memory_bytes: float  # growth of INFO used_memory, per session
    keys_bytes: float  # MEMORY USAGE of the sessions' keys, per session
    keys_per_session: float


class Counters:
    """The servers' own counters: Redis's command statistics, PostgreSQL's statement log and database stats."""

    def __init__(self, redis: Redis, pg: asyncpg.Connection, pg_log: Path | None) -> None:
        self.redis, self.pg, self.pg_log = redis, pg, pg_log

    async def redis_calls(self) -> int:
        stats = await self.redis.info("commandstats")
        return sum(int(v["calls"]) for v in stats.values())  # this INFO itself counts once: subtracted by caller

    async def settled_pg_stats(self) -> tuple[int, int]:
        """Transactions and rows written so far. Backends report their statistics when idle, at most once a
        second and at the latest 10 s after (PostgreSQL's PGSTAT_IDLE_INTERVAL): read once all have."""
        await asyncio.sleep(STATS_SETTLE_SECONDS)
        row = await self.pg.fetchrow(
            """SELECT xact_commit + xact_rollback AS xacts, tup_inserted + tup_updated + tup_deleted AS written
               FROM pg_stat_database WHERE datname = current_database()"""
        )
        assert row is not None
        return row["xacts"], row["written"]

    async def log_statements(self, on: bool) -> None:
        await self._configure("log_statement", "all" if on else "none")

    async def without_autovacuum(self) -> None:
        """Autovacuum's ANALYZE writes pg_statistic rows, which would be counted as the operations' writes."""
        await self._configure("autovacuum", "off")

    async def _configure(self, name: str, value: str) -> None:
        """Only on the bench's own embedded server: a DATABASE_URL's is someone else's to configure."""
        if self.pg_log is None:
            return
        await self.pg.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await self.pg.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)  # every backend reads the reloaded file before its next statement

    def log_size(self) -> int:
        return self.pg_log.stat().st_size if self.pg_log else 0

    def statements_since(self, offset: int) -> int:
        if self.pg_log is None:
            return 0
        with self.pg_log.open("rb") as f:
            f.seek(offset)
            return len(STATEMENT_LINE.findall(f.read()))


async def drive(host: str, port: int, requests: int, call: Call) -> int:
    """`requests` calls over CONCURRENCY connections; how many failed."""
    failures, issued = 0, 0

    async def loop(index: int) -> None:
        nonlocal failures, issued
        connection = HttpConnection(host, port)
        while issued < requests:
            issued += 1
            failures += 0 if await call(connection, index) else 1

    await asyncio.gather(*(loop(i) for i in range(CONCURRENCY)))
    return failures


async def cost_of(
    name: str, call: Call, counters: Counters, server: int, where: tuple[str, int], requests: int
) -> Cost:
    xacts_before, written_before = await counters.settled_pg_stats()
    redis_before, cpu_before = await counters.redis_calls(), tree_cpu(server)
    failures = await drive(*where, requests, call)
    cpu, redis_after = tree_cpu(server) - cpu_before, await counters.redis_calls()
    xacts_after, written_after = await counters.settled_pg_stats()
    # A second, shorter pass with every statement logged: the count, not the cost.
    counted = max(requests // 4, 20)
    await counters.log_statements(True)
    offset = counters.log_size()
    failures += await drive(*where, counted, call)
    await asyncio.sleep(0.3)
    statements = counters.statements_since(offset)
    await counters.log_statements(False)
    if failures:
        raise SystemExit(f"{name}: {failures} requests failed")
    log(f"  {name}: {cpu / requests * 1000:.2f} ms CPU per request")
    return Cost(
        name,
        requests,
        cpu / requests * 1000,
        max(redis_after - redis_before - 1, 0) / requests,  # less the INFO read itself
        statements / counted,
        max(xacts_after - xacts_before - 1, 0) / requests,  # less the pg_stats read itself
        max(written_after - written_before, 0) / requests,
    )


def operations(scenario: Scenario) -> dict[str, Callable[[], Call]]:
    """Each operation's call, made when its turn comes: introspections and the current account use the tickets the
    logins before them returned, and each refresh chain takes one of them."""
    argon2 = Argon2Parameters()
    login_name = f"login (Argon2id m={argon2.memory_kib // 1024} MiB, t={argon2.iterations}, p={argon2.parallelism})"
    return {
        login_name: lambda: scenario.login,
        "refresh with rotation": lambda: scenario.refresh(CONCURRENCY),
        "introspection, opaque token": lambda: scenario.introspect("accessToken"),
        "introspection, JWT access token": lambda: scenario.introspect("jwtAccessToken"),
        "GET …/accounts/current": scenario.current_account,
    }


async def session_memory(redis_url: str, count: int) -> SessionMemory:
    """`count` sessions written as a login writes them, copied from one a real login wrote."""
    from service.platform import keyspace
    from service.platform.redis import create_redis
    from service.platform.replica_acks import AcknowledgedWrites
    from service.sessions.record import decode_session
    from service.sessions.store import Sessions

    redis = create_redis(redis_url)
    existing = {key async for key in redis.scan_iter(count=1000)}
    model_key = next(k for k in existing if keyspace.is_session_key(k))
    model = decode_session(await redis.get(model_key))
    sessions = Sessions(redis=redis, writes=AcknowledgedWrites(redis=redis))  # without WAIT, as by default
    used_before = (await redis.info("memory"))["used_memory"]
    for start in range(0, count, 100):
        copies = [  # one account each: every session also pays for its account's set of sessions (create names it)
            msgspec.structs.replace(model, account_id=10_000_000 + start + i) for i in range(min(100, count - start))
        ]
        await asyncio.gather(*(sessions.create(copy) for copy in copies))
        if (start // 100) % 200 == 0:
            log(f"  {start + len(copies):,}/{count:,} sessions written")
    used_after = (await redis.info("memory"))["used_memory"]
    written = [key async for key in redis.scan_iter(count=5000) if key not in existing]
    usage = 0
    for start in range(0, len(written), 1000):
        async with redis.pipeline(transaction=False) as pipe:
            for key in written[start : start + 1000]:
                pipe.memory_usage(key, samples=0)
            usage += sum(u or 0 for u in await pipe.execute())
    await redis.aclose()
    return SessionMemory(count, (used_after - used_before) / count, usage / count, len(written) / count)


# What the guide sizes for: a shop's peak, per second, and its live sessions. Any other mix scales linearly.
EXAMPLE_RATES = {"login": 50, "refresh": 500, "introspection, opaque token": 5000, "accounts/current": 1000}
EXAMPLE_SESSIONS = 1_000_000
CPU_HEADROOM = 0.7  # cores kept at most 70% busy at peak


def _rate_of(costs: list[Cost], prefix: str) -> Cost:
    return next(c for c in costs if c.operation.startswith(prefix) or c.operation.endswith(prefix))


def render(costs: list[Cost], memory: SessionMemory, workers: int) -> str:
    lines = [
        (
            f"Measured {date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), {workers} service "
            f"workers, PostgreSQL and Redis on the same machine over loopback; {costs[-1].requests} requests per "
            f"operation ({costs[0].requests} logins) over {CONCURRENCY} connections."
        ),
        "",
        "| operation | CPU per request | Redis commands | PostgreSQL statements | transactions | rows written |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {c.operation} | {c.cpu_ms:.2f} ms | {c.redis_commands:.1f} | {c.postgres_statements:.1f} "
        f"| {c.postgres_transactions:.1f} | {c.postgres_rows_written:.1f} |"
        for c in costs
    ]
    lines += [
        "",
        (
            f"Redis memory per session ({memory.sessions:,} sessions written as logins write them, "
            f"{memory.keys_per_session:.1f} keys each): {memory.keys_bytes:,.0f} bytes by `MEMORY USAGE` of their "
            f"keys, {memory.used_memory_bytes:,.0f} bytes of `used_memory` growth (with the keyspace's own tables)."
        ),
        "",
        *_example(costs, memory),
    ]
    return "\n".join(lines)


def _example(costs: list[Cost], memory: SessionMemory) -> list[str]:
    needed = [(name, rate, _rate_of(costs, name)) for name, rate in EXAMPLE_RATES.items()]
    cores = sum(rate * cost.cpu_ms / 1000 for _, rate, cost in needed) / CPU_HEADROOM
    writes = sum(rate * cost.postgres_rows_written for _, rate, cost in needed)
    commits = sum(rate * cost.postgres_transactions for _, rate, cost in needed)
    redis_ops = sum(rate * cost.redis_commands for _, rate, cost in needed)
    redis_gib = EXAMPLE_SESSIONS * memory.used_memory_bytes / 2**30
    mix = ", ".join(f"{rate:,} {name}/s" for name, rate, _ in needed)
    return [
        (
            f"Example, a shop at its peak: {mix}, {EXAMPLE_SESSIONS:,} live sessions. Service: "
            f"{cores:.1f} vCPUs (at {CPU_HEADROOM:.0%} busy; logins are almost all Argon2). Redis: "
            f"{redis_gib:.1f} GiB for the sessions (double it for replicas and fork-time copy-on-write), "
            f"{redis_ops:,.0f} commands/s. PostgreSQL: {commits:,.0f} transactions/s, {writes:,.0f} rows written/s."
        ),
    ]


async def measure_costs(base_url: str, dbs_urls: tuple[str, str, Path | None], admin: tuple[str, str], n: int,
                        server: int) -> list[Cost]:  # fmt: skip
    database_url, redis_url, pg_log = dbs_urls
    host, port = base_url.removeprefix("http://").split(":")
    api = Api(host, int(port))
    scenario = Scenario(await prepare(api, admin, CONCURRENCY))
    redis = Redis.from_url(redis_url, decode_responses=True)
    pg = await asyncpg.connect(database_url)
    await pg.execute("SET log_statement = 'none'")  # the counters' own reads are not counted
    counters = Counters(redis, pg, pg_log)
    await counters.without_autovacuum()
    try:
        costs = []
        for name, make_call in operations(scenario).items():
            requests = max(n // 8, 40) if name.startswith("login") else n
            costs.append(await cost_of(name, make_call(), counters, server, (host, int(port)), requests))
        return costs
    finally:
        await redis.aclose()
        await pg.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sizing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per operation (logins: an eighth)")
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions written for the memory figure")
    parser.add_argument("--workers", type=int, default=2)
    add_output_options(parser)
    args = parser.parse_args(argv)
    admin = ("bench-admin", secrets.token_urlsafe(18))
    with databases() as dbs:
        # No webhook delivery loops: their polling would be counted as the operations' statements.
        server, base_url = start_gatehouse(dbs, args.workers, admin, GATEHOUSE_WEBHOOK_WORKERS="0")
        try:
            urls = (dbs.database_url, dbs.redis_url, dbs.postgres_log)
            started = time.monotonic()
            costs = run_loop(measure_costs(base_url, urls, admin, args.requests, server.pid))
            log(f"writing {args.sessions:,} sessions")
            memory = run_loop(session_memory(dbs.redis_url, args.sessions))
            log(f"measured in {time.monotonic() - started:.0f} s")
        finally:
            stop_gatehouse(server)
    if args.json:
        print(json.dumps({"costs": [asdict(c) for c in costs], "session_memory": asdict(memory)}, indent=2))
    else:
        print(render(costs, memory, args.workers))
    if args.write_readme:
        write_readme_section(SIZING_MARKER, render(costs, memory, args.workers))
        log("wrote bench/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
