"""Measure what GATEHOUSE_REDIS_WAIT_REPLICAS=1 costs refreshes, on a real Sentinel topology.

Starts a primary, a replica and 3 Sentinels on loopback (tests/redis_topologies.py), embedded PostgreSQL (or
DATABASE_URL), and two Gatehouse services on them at once: one with WAIT off, one with WAIT 1. Each prepares
its own tenant and accounts; then refresh chains (each answer's refresh token is the next request's) run on
one and then the other, in alternating rounds so that other load on a shared machine shifts both sides of a
pair alike. Reported per side: the median rate and latency, the service's CPU per refresh (its master and
workers, from /proc) and the Redis primary's; and the cost as the median of each pair's rate ratio.

    python -m bench.redis_wait [--seconds 5] [--rounds 6] [--workers 2] [--concurrency 16] [--write-readme]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench.harness import (
    Api,
    bench_tenant,
    databases,
    log,
    run_loop,
    start_gatehouse,
    stop_gatehouse,
    write_readme_section,
)
from bench.operations import PASSWORD, Scenario
from bench.processes import cpu_seconds, process_tree_cpu
from bench.throughput import Call, Result, drive
from tests.redis_topologies import SentinelTopology, launch_sentinel

MARKER = "<!-- redis wait results -->"
SIDES = {"off": {}, "on": {"GATEHOUSE_REDIS_WAIT_REPLICAS": "1"}}


@dataclass
class Side:
    base_url: str
    pid: int
    refresh: Call | None = None  # each connection's rotation chain, continued round after round
    rounds: list[Result] = field(default_factory=list)
    service_cpu: float = 0.0  # seconds, over every round
    redis_cpu: float = 0.0

    @property
    def refreshes(self) -> int:
        return sum(r.count for r in self.rounds)

    def median(self) -> Result:
        return sorted(self.rounds, key=lambda r: r.rate)[len(self.rounds) // 2]


async def _prepare(side: Side, args: argparse.Namespace) -> None:
    host, port = side.base_url.removeprefix("http://").split(":")
    api = Api(host, int(port))
    scenario = Scenario(await bench_tenant(api, (args.admin_user, args.admin_password)))
    for i in range(args.concurrency):
        ticket = await api.call(
            "POST",
            "/api/commerce/customer/accounts/Add-Account-And-Login",
            {"account": {"emailAddress": f"wait-{i}-{secrets.token_hex(3)}@example.com"}, "password": PASSWORD},
            scenario.setup["app_headers"],
        )
        scenario.tickets.append(ticket)  # type: ignore[arg-type]
    side.refresh = scenario.refresh(args.concurrency)


async def _round(side: Side, topology: SentinelTopology, args: argparse.Namespace, name: str) -> None:
    host, port = side.base_url.removeprefix("http://").split(":")
    assert side.refresh is not None
    redis_pid = topology.primary().process.pid  # type: ignore[union-attr]
    service_before, redis_before = process_tree_cpu(side.pid), cpu_seconds(redis_pid)
    result = await drive(f"refresh, WAIT {name}", host, int(port), args.concurrency, args.seconds, side.refresh)
    side.service_cpu += process_tree_cpu(side.pid) - service_before
    side.redis_cpu += cpu_seconds(redis_pid) - redis_before
    side.rounds.append(result)
    log(f"  WAIT {name}: {result.rate:.0f}/s, {result.errors} errors")


async def _bench(args: argparse.Namespace, sides: dict[str, Side], topology: SentinelTopology) -> float:
    """The median of the pairs' rate ratios (WAIT on / WAIT off)."""
    for side in sides.values():
        await _prepare(side, args)
    for number in range(args.rounds):
        for name in ("off", "on") if number % 2 == 0 else ("on", "off"):
            await _round(sides[name], topology, args, name)
    ratios = sorted(on.rate / off.rate for off, on in zip(sides["off"].rounds, sides["on"].rounds, strict=True))
    return ratios[len(ratios) // 2]


def render(sides: dict[str, Side], ratio: float, args: argparse.Namespace) -> str:
    rows = [
        (
            f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, a Sentinel topology on loopback "
            f"(primary, replica, 3 Sentinels), two services of {args.workers} workers each at once; "
            f"{args.rounds} rounds of {args.seconds:.0f} s each way, alternating, {args.concurrency} refresh chains."
        ),
        "",
        (
            "| refresh | per second (median round) | p50 ms | p99 ms | errors | service CPU ms/refresh "
            "| Redis primary CPU µs/refresh |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, side in sides.items():
        median = side.median()
        rows.append(
            f"| WAIT {name} | {median.rate:.0f} | {median.percentile(0.5):.1f} | {median.percentile(0.99):.1f} "
            f"| {sum(r.errors for r in side.rounds)} | {1000 * side.service_cpu / side.refreshes:.2f} "
            f"| {1e6 * side.redis_cpu / side.refreshes:.0f} |"
        )
    rows += ["", f"WAIT 1 refreshes at {ratio:.0%} of the rate without it (median of the {args.rounds} pairs)."]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_wait")
    parser.add_argument("--seconds", type=float, default=5, help="length of one round")
    parser.add_argument("--rounds", type=int, default=6, help="pairs of rounds (off, on); medians are reported")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--concurrency", type=int, default=16, help="refresh chains, one connection each")
    parser.add_argument("--write-readme", action="store_true", help="also write the table into bench/README.md")
    args = parser.parse_args()
    args.admin_user, args.admin_password = "bench-admin", secrets.token_urlsafe(18)
    with (
        tempfile.TemporaryDirectory(prefix="gatehouse-bench-sentinel-") as directory,
        launch_sentinel(Path(directory)) as topology,
        databases() as dbs,
    ):
        urls = dataclasses.replace(dbs, redis_url=topology.url)
        started = {name: start_gatehouse(urls, args.workers, (args.admin_user, args.admin_password), **env)
                   for name, env in SIDES.items()}  # fmt: skip
        try:
            sides = {name: Side(base_url, process.pid) for name, (process, base_url) in started.items()}
            ratio = run_loop(_bench(args, sides, topology))
        finally:
            for process, _ in started.values():
                stop_gatehouse(process)
    table = render(sides, ratio, args)
    print(table)
    if args.write_readme:
        write_readme_section(MARKER, table)
        log("wrote bench/README.md")
    return 0 if not any(r.errors for side in sides.values() for r in side.rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
