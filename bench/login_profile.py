"""`python -m bench login-profile`: what a login's CPU beyond its Argon2 verification is made of.

`make bench` reports a login's CPU in the service's event loops; this says where it goes. Logins run in this
process through the service's own capabilities, as the Kibo route calls them (`Logins.login`: the address
throttle, the account's lookup, its attempt reservation, the verification on the hashing threads, the login's
record with its audit row and event, the session and the ticket's JWT), with no HTTP in front; the event loop's
CPU per login is read around them. The same logins then run under cProfile, whose own time per function is summed
by the package the function belongs to (a C function's by its callers'). For comparison, in the same run: the
event loop's CPU per login over HTTP against one service worker, and Argon2id's CPU per verification with every
core hashing.

    python -m bench login-profile [--logins 400] [--concurrency 8] [--json] [--write-readme]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import sysconfig
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.argon2_limit import Argon2Rounds, describe, tenant_parameters
from bench.harness import ROOT, Api, add_output_options, databases, log, run_loop, service, write_readme_section
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
    "asyncpg": "asyncpg",
    "asyncio": "asyncio (the standard library's tasks, futures, streams and timeouts)",
    "jwt": "PyJWT, with cryptography's ECDSA signature",
    "service": "Gatehouse's own modules",
    "argon2": "argon2-cffi (parsing the stored hash)",
    "msgspec": "msgspec",
}
# The steps of `Logins.login`, by the file and name of the function that takes each.
STEPS = (
    ("the address throttle's GET (Redis)", "service/limits/lockout.py", "address_blocked_for"),
    ("the account's lookup (PostgreSQL)", "service/accounts/repository.py", "find_for_login"),
    ("the attempt reservation's script (Redis)", "service/limits/lockout.py", "reserve_attempt"),
    ("handing the verification to a hashing thread", "service/platform/passwords.py", "verify"),
    ("the login's record, audit row and event (PostgreSQL)", "service/sessions/repository.py", "record_login"),
    ("the session's script (Redis)", "service/sessions/store.py", "create"),
    ("the ticket's JWT (PyJWT, ES256)", "service/tokens/jwt_tokens.py", "issue"),
)
Login = Callable[[int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class LoginProfile:
    logins: int
    concurrency: int
    argon2_ms: float  # CPU per verification, every core hashing, the service idle
    http_loop_ms: float  # the service worker's event loop, per login over HTTP
    in_process_loop_ms: float  # this process's event loop, per login through Logins.login
    hashing_threads_ms: float  # this process's other threads (the verifications), per login
    shares: dict[str, float]  # package -> share of the profiled Python time
    steps: dict[str, float]  # step -> share of the time profiled inside Logins.login


def package_of(filename: str) -> str:
    """The package a profiled function's file belongs to: its top-level name under site-packages or the standard
    library, `service` for the project's own modules."""
    path = Path(filename)
    if "site-packages" in path.parts[:-1]:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if path.is_relative_to(ROOT / "service"):
        return "service"
    if path.is_relative_to(STDLIB):
        return path.relative_to(STDLIB).parts[0].removesuffix(".py")
    return path.stem


def entries(stats: pstats.Stats) -> dict[tuple[str, int, str], tuple[int, int, float, float, dict[Any, Any]]]:
    """(file, line, function) -> (primitive calls, calls, own time, time with callees, callers)."""
    return stats.stats  # type: ignore[attr-defined, no-any-return]  # pstats leaves it undocumented and untyped


def shares_by_package(stats: pstats.Stats) -> dict[str, float]:
    """Each package's share of the profile's own time; a built-in function's time goes to its callers' packages."""
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, callers) in entries(stats).items():
        if filename != "~":
            totals[package_of(filename)] = totals.get(package_of(filename), 0.0) + own
            continue
        called = sum(caller[2] for caller in callers.values()) or 1.0
        for (caller_file, _, _), caller in callers.items():
            package = package_of(caller_file) if caller_file != "~" else "built-ins"
            totals[package] = totals.get(package, 0.0) + own * caller[2] / called
    whole = sum(totals.values()) or 1.0
    named = {PACKAGES.get(name, name): seconds / whole for name, seconds in totals.items()}
    return dict(sorted(named.items(), key=lambda item: -item[1]))


def shares_by_step(stats: pstats.Stats) -> dict[str, float]:
    """Each step's time, callees included, as a share of `Logins.login`'s (cProfile counts a coroutine's time while
    it runs, not while it waits)."""
    profiled = entries(stats)

    def cumulative(path: str, name: str) -> float:
        return sum(e[3] for (f, _, n), e in profiled.items() if n == name and Path(f).as_posix().endswith(path))

    whole = cumulative("service/sessions/logins.py", "login") or 1.0
    return {label: cumulative(path, name) / whole for label, path, name in STEPS}


async def concurrently(login: Login, count: int, concurrency: int) -> None:
    next_index = iter(range(count))

    async def worker() -> None:
        for index in next_index:
            await login(index)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def in_process_logins(
    setup: dict[str, Any], database_url: str, redis_url: str
) -> tuple[Login, Callable[[], Awaitable[None]]]:
    """A login through the service's capabilities, built here from the same settings the service runs with."""
    from service.audit import Actor
    from service.platform.config import load_settings
    from service.platform.redis import close_redis
    from service.sessions.logins import Device
    from service.wiring import build_capabilities

    settings = load_settings({**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url})
    capabilities = build_capabilities(settings)
    await capabilities.logins.db.open()
    principal = await capabilities.app_tickets.authenticate(setup["app_headers"]["authorization"].split()[1])
    scope = await capabilities.tenants.customer_scope(principal, None)
    actor = Actor("app:bench", "127.0.0.1")
    emails = setup["emails"]

    async def login(index: int) -> object:
        email = emails[index % len(emails)]
        return await capabilities.logins.login(scope, actor, email, None, PASSWORD, Device(), (None, None))

    async def close() -> None:
        await capabilities.logins.db.close()
        await close_redis(capabilities.logins.sessions.redis)

    return login, close


async def measure(
    args: argparse.Namespace, host: str, port: int, urls: tuple[str, str], meter: CpuMeter
) -> LoginProfile:
    api = Api(host, port)
    setup = await prepare(api, (args.admin_user, args.admin_password), args.accounts)
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

    login, close = await in_process_logins(setup, *urls)
    try:
        await concurrently(login, args.concurrency * 2, args.concurrency)  # connections, caches, code paths warm
        loop_before, process_before = time.thread_time(), time.process_time()
        await concurrently(login, args.logins, args.concurrency)
        loop_ms = (time.thread_time() - loop_before) / args.logins * 1000
        threads_ms = (time.process_time() - process_before) / args.logins * 1000 - loop_ms
        log(f"in this process: {args.logins} logins, {loop_ms:.2f} ms event loop CPU per login")
        profiler = cProfile.Profile(time.thread_time)  # CPU: a loop preempted by the hashes is not charged
        profiler.enable()
        await concurrently(login, args.logins, args.concurrency)
        profiler.disable()
    finally:
        await close()
    stats = pstats.Stats(profiler)
    return LoginProfile(
        args.logins,
        args.concurrency,
        limit.cpu_ms,
        http_loop_ms,
        loop_ms,
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
        f"| event loop, over HTTP (one service worker) | {profile.http_loop_ms:.2f} |",
        f"| event loop, `Logins.login` in this process, no HTTP | {profile.in_process_loop_ms:.2f} |",
        f"| so uvicorn, Litestar and the Kibo route add | {beyond:.2f} |",
        f"| hashing threads, `Logins.login` in this process | {profile.hashing_threads_ms:.2f} |",
        "",
        "| package (`Logins.login` under cProfile) | share of its Python time |",
        "|---|---:|",
        *(f"| {package} | {share:.0%} |" for package, share in profile.shares.items() if share >= SHOWN_SHARE),
        f"| everything else | {sum(s for s in profile.shares.values() if s < SHOWN_SHARE):.0%} |",
        "",
        "| step of `Logins.login` (under cProfile) | share of its time |",
        "|---|---:|",
        *(f"| {step} | {share:.0%} |" for step, share in profile.steps.items()),
        f"| the rest (the candidate's checks, the session's template, the ticket) | {rest:.0%} |",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench login-profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=400, help="logins in this process, and again under cProfile")
    parser.add_argument("--concurrency", type=int, default=8, help="logins at once, in this process and over HTTP")
    parser.add_argument("--seconds", type=float, default=10, help="length of the logins over HTTP")
    parser.add_argument("--accounts", type=int, default=16)
    add_output_options(parser)
    args = parser.parse_args(argv)
    args.admin_user, args.admin_password = "bench-admin", secrets.token_urlsafe(18)
    with databases() as dbs, service(dbs, 1, (args.admin_user, args.admin_password)) as server:
        meter = CpuMeter(server.process.pid, None, None)
        urls = (dbs.database_url, dbs.redis_url)
        profile = run_loop(measure(args, *server.host_and_port, urls, meter))
    print(json.dumps(asdict(profile), indent=2) if args.json else render(profile))
    if args.write_readme:
        write_readme_section(MARKER, render(profile))
        log("wrote bench/README.md")
    return 0
