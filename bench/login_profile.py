"""`python -m bench login-profile`: what a login's CPU beyond its Argon2 verification is made of.

`make bench` reports a login's CPU in the service's event loops; this says where it goes. Logins run in this
process through the service's own capabilities, as the Kibo route calls them (`Logins.login`: the address
throttle, the account's lookup, its attempt reservation, the verification on the hashing threads, the login's
record with its audit row and event, the session and the ticket's JWT), with no HTTP in front; the event loop's
CPU per login is read around them. The same logins then run under cProfile on the thread's CPU clock: its own time
per function, summed by the package the function belongs to (a C function's by its callers'), and the time of
each step of `Logins.login`. For comparison, in the same run: the event loop's CPU per login over HTTP against one
service worker (its webhook delivery loops off), and Argon2id's CPU per verification with every core hashing.

    python -m bench login-profile [--logins 400] [--concurrency 8] [--seconds 10] [--accounts 16] [--json]
                                  [--write-readme]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import pstats
import secrets
import sysconfig
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench import harness
from bench.argon2_limit import Argon2Rounds, describe, tenant_parameters
from bench.harness import log
from bench.operations import PASSWORD, Scenario, prepare
from bench.processes import CpuMeter, cpu_model
from bench.throughput import drive

MARKER = "<!-- login profile -->"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
ARGON2_SECONDS = 4
SHOWN_SHARE = 0.02  # packages below it are summed in one row
# Packages by the name their files live under; anything else is shown under its own top-level name.
PACKAGES = {
    "redis": "redis-py",
    "asyncio": "asyncio (the standard library's tasks, futures, streams and timeouts)",
    "jwt": "PyJWT, with cryptography's ECDSA signature",
    "service": "Gatehouse's own modules",
    "argon2": "argon2-cffi (parsing the stored hash)",
}
Login = Callable[[int], Awaitable[object]]
ProfileEntries = dict[tuple[str, int, str], tuple[int, int, float, float, dict[Any, Any]]]


def login_steps() -> list[tuple[str, Callable[..., Any]]]:
    """The steps of `Logins.login`, each by the function that takes it (cProfile knows a function by its code)."""
    from service.accounts.repository import find_for_login
    from service.limits.lockout import Lockout
    from service.platform.passwords import Passwords
    from service.sessions.repository import record_login
    from service.sessions.store import Sessions
    from service.tokens.jwt_tokens import issue

    return [
        ("the address throttle's GET (Redis)", Lockout.address_blocked_for),
        ("the account's lookup (PostgreSQL)", find_for_login),
        ("the attempt reservation's script (Redis)", Lockout.reserve_attempt),
        ("handing the verification to a hashing thread", Passwords.verify),
        ("the login's record, audit row and event (PostgreSQL)", record_login),
        ("the session's script (Redis)", Sessions.create),
        ("the ticket's JWT (PyJWT, ES256)", issue),
    ]


@dataclass(frozen=True, slots=True)
class LoginProfile:
    logins: int
    concurrency: int
    argon2_ms: float  # CPU per verification, every core hashing, the service idle
    http_loop_ms: float  # the service worker's event loop, per login over HTTP
    in_process_loop_ms: float  # this process's event loop, per login through Logins.login
    profiled_loop_ms: float  # the same under cProfile, whose own cost falls mostly on call-heavy code
    hashing_threads_ms: float  # this process's other threads (the verifications), per login
    shares: dict[str, float]  # package -> share of the event loop's profiled time while the logins ran
    steps: dict[str, float]  # step -> share of the time profiled inside Logins.login


def package_of(filename: str) -> str:
    """The package a profiled function's file belongs to: its top-level name under site-packages or the standard
    library, `service` for the project's own modules."""
    path = Path(filename)
    if "site-packages" in path.parts[:-1]:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if path.is_relative_to(harness.ROOT / "service"):
        return "service"
    if path.is_relative_to(STDLIB):
        return path.relative_to(STDLIB).parts[0].removesuffix(".py")
    return path.stem


def entries(stats: pstats.Stats) -> ProfileEntries:
    """(file, line, function) -> (primitive calls, calls, own time, time with callees, callers)."""
    return stats.stats  # type: ignore[attr-defined, no-any-return]  # pstats leaves it undocumented and untyped


def shares_by_package(stats: pstats.Stats) -> dict[str, float]:
    """Each package's share of the profile's own time; a built-in function's time goes to its callers' packages."""
    totals: Counter[str] = Counter()
    for (filename, _, _), (_, _, own, _, callers) in entries(stats).items():
        if filename != "~":
            totals[package_of(filename)] += own
            continue
        for (caller_file, _, _), (_, _, own_from_caller, _) in callers.items():
            totals[package_of(caller_file) if caller_file != "~" else "built-ins"] += own_from_caller
    whole = sum(totals.values()) or 1.0
    named = {PACKAGES.get(name, name): seconds / whole for name, seconds in totals.items()}
    return dict(sorted(named.items(), key=lambda item: -item[1]))


def shares_by_step(stats: pstats.Stats) -> dict[str, float]:
    """Each step's time, callees included, as a share of `Logins.login`'s (cProfile counts a coroutine's time while
    it runs, not while it waits)."""
    from service.sessions.logins import Logins

    profiled = entries(stats)

    def cumulative(function: Callable[..., Any]) -> float:
        code = function.__code__
        entry = profiled.get((code.co_filename, code.co_firstlineno, code.co_name))
        if entry is None:
            raise SystemExit(f"cProfile saw no call of {function.__qualname__}: has the login changed?")
        return entry[3]

    whole = cumulative(Logins.login)
    return {label: cumulative(function) / whole for label, function in login_steps()}


async def concurrently(login: Login, count: int, concurrency: int) -> None:
    next_index = iter(range(count))

    async def worker() -> None:
        for index in next_index:
            await login(index)

    async with asyncio.TaskGroup() as group:  # one failing login stops the others before the servers close
        for _ in range(concurrency):
            group.create_task(worker())


@asynccontextmanager
async def in_process_logins(setup: dict[str, Any], database_url: str, redis_url: str) -> AsyncIterator[Login]:
    """A login through the service's capabilities, built here from the same settings the service runs with."""
    from service.audit import Actor
    from service.platform.config import load_settings
    from service.platform.redis import close_redis
    from service.sessions.logins import Device
    from service.wiring import build_capabilities

    settings = load_settings({**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url})
    capabilities = build_capabilities(settings)
    await capabilities.db.open()
    try:
        principal = await capabilities.app_tickets.authenticate(setup["app_headers"]["authorization"].split()[1])
        scope = await capabilities.tenants.customer_scope(principal, None)
        actor = Actor("app:bench", "127.0.0.1")
        emails = setup["emails"]
        gc.freeze()  # as the service does once started: the collector then skips the same long-lived objects

        async def login(index: int) -> object:
            email = emails[index % len(emails)]
            return await capabilities.logins.login(scope, actor, email, None, PASSWORD, Device(), (None, None))

        yield login
    finally:
        await close_redis(capabilities.redis)
        await capabilities.db.close()


async def measure(
    args: argparse.Namespace, admin: tuple[str, str], base_url: str, urls: tuple[str, str], meter: CpuMeter
) -> LoginProfile:
    host, port_text = base_url.removeprefix("http://").split(":")
    port = int(port_text)
    setup = await prepare(harness.Api(host, port), admin, args.accounts)
    argon2 = Argon2Rounds()
    try:
        limit = await argon2.measure(ARGON2_SECONDS)
    finally:
        argon2.close()
    log(f"Argon2id: {limit.cpu_ms:.2f} ms CPU per verification, every core hashing")

    scenario = Scenario(setup)
    await drive("warm-up", host, port, args.concurrency, 2, scenario.login)
    before = meter.read()
    over_http = await drive("login", host, port, args.concurrency, args.seconds, scenario.login)
    if over_http.errors:
        raise SystemExit(f"{over_http.errors} logins over HTTP failed")
    http_loop_ms = (meter.read() - before).event_loops / over_http.count * 1000
    log(f"over HTTP: {over_http.count} logins, {http_loop_ms:.2f} ms event loop CPU per login")

    async with in_process_logins(setup, *urls) as login:
        await concurrently(login, args.concurrency * 2, args.concurrency)  # connections, caches, code paths warm
        loop_before, process_before = time.thread_time(), time.process_time()
        await concurrently(login, args.logins, args.concurrency)
        loop_ms = (time.thread_time() - loop_before) / args.logins * 1000
        threads_ms = (time.process_time() - process_before) / args.logins * 1000 - loop_ms
        log(f"in this process: {args.logins} logins, {loop_ms:.2f} ms event loop CPU per login")
        profiler = cProfile.Profile(time.thread_time)  # CPU: a loop preempted by the hashes is not charged
        profiled_before = time.thread_time()
        profiler.enable()
        await concurrently(login, args.logins, args.concurrency)
        profiler.disable()
        profiled_ms = (time.thread_time() - profiled_before) / args.logins * 1000
    stats = pstats.Stats(profiler)
    return LoginProfile(
        args.logins,
        args.concurrency,
        limit.cpu_ms,
        http_loop_ms,
        loop_ms,
        profiled_ms,
        threads_ms,
        shares_by_package(stats),
        shares_by_step(stats),
    )


def render(profile: LoginProfile) -> str:
    beyond = profile.http_loop_ms - profile.in_process_loop_ms
    rest = 1 - sum(profile.steps.values())
    machine = f"{cpu_model()} ({len(os.sched_getaffinity(0))} cores), Argon2id {describe(tenant_parameters())}"
    lines = [
        f"Measured {date.today().isoformat()} on {machine}; {profile.logins} logins, {profile.concurrency} at once.",
        "",
        "| a login's CPU | ms |",
        "|---|---:|",
        f"| Argon2id verification, every core hashing (the limit's) | {profile.argon2_ms:.2f} |",
        f"| event loop, over HTTP (one service worker, no webhook delivery loops) | {profile.http_loop_ms:.2f} |",
        f"| event loop, `Logins.login` in this process, no HTTP | {profile.in_process_loop_ms:.2f} |",
        f"| so about what uvicorn, Litestar and the Kibo route add | {beyond:.2f} |",
        f"| hashing threads, `Logins.login` in this process | {profile.hashing_threads_ms:.2f} |",
        f"| event loop, `Logins.login` under cProfile (its own cost included) | {profile.profiled_loop_ms:.2f} |",
        "",
        "| package (event loop under cProfile, while the logins ran) | share of its time |",
        "|---|---:|",
        *(f"| {package} | {share:.0%} |" for package, share in profile.shares.items() if share >= SHOWN_SHARE),
        f"| everything else | {sum(s for s in profile.shares.values() if s < SHOWN_SHARE):.0%} |",
        "",
        "| step of `Logins.login` (under cProfile) | share of its time |",
        "|---|---:|",
        *(f"| {step} | {share:.0%} |" for step, share in profile.steps.items()),
        f"| the rest of `Logins.login` | {rest:.0%} |",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench login-profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=400, help="logins in this process, and again under cProfile")
    parser.add_argument("--concurrency", type=int, default=8, help="logins at once, in this process and over HTTP")
    parser.add_argument("--seconds", type=float, default=10, help="length of the logins over HTTP")
    parser.add_argument("--accounts", type=int, default=16)
    harness.add_output_options(parser)
    args = parser.parse_args(argv)
    admin = ("bench-admin", secrets.token_urlsafe(18))
    with harness.databases() as dbs:
        # No webhook delivery loops: their polling would be counted as the logins' event loop CPU.
        server, base_url = harness.start_gatehouse(dbs, 1, admin, GATEHOUSE_WEBHOOK_WORKERS="0")
        try:
            urls = (dbs.database_url, dbs.redis_url)
            profile = harness.run_loop(measure(args, admin, base_url, urls, CpuMeter(server.pid, None, None)))
        finally:
            harness.stop_gatehouse(server)
    print(json.dumps(asdict(profile), indent=2) if args.json else render(profile))
    if args.write_readme:
        harness.write_readme_section(MARKER, render(profile))
        log("wrote bench/README.md")
    return 0
