"""The throughput benchmark's table and its ratios to the limits measured in the same run, as Markdown or JSON."""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from datetime import date

from bench.argon2_limit import Argon2Limit, describe, tenant_parameters
from bench.processes import cpu_model
from bench.throughput import Result


@dataclass(frozen=True, slots=True)
class Machine:
    cores: int
    cpu: str
    load_before: float  # 1-minute load average: how busy the shared machine was
    load_after: float

    @classmethod
    def now(cls, load_before: float) -> Machine:
        return cls(len(os.sched_getaffinity(0)), cpu_model(), load_before, os.getloadavg()[0])


@dataclass(frozen=True, slots=True)
class Check:
    measure: str
    value: float
    unit: str
    goal: str
    met: bool


def _find(results: list[Result], name: str, connections: int) -> Result | None:
    return next((r for r in results if r.name == name and r.concurrency == connections), None)


def checks(results: list[Result], argon2: Argon2Limit) -> list[Check]:
    """Each goal of issue 15 as a ratio or figure of this run."""
    found: list[Check] = []
    for login in (r for r in results if r.name == "login"):
        # Each round against the limit measured just before it; the median of those ratios.
        shares = sorted(rate / limit.rate for rate, limit in zip(login.round_rates, login.limits, strict=True))
        share = shares[len(shares) // 2]
        found.append(Check(f"login x{login.concurrency} / Argon2 limit", share * 100, "%", ">= 90%", share >= 0.9))
        extra = login.service_ms - sum(limit.cpu_ms for limit in login.limits) / len(login.limits)
        found.append(Check(f"login x{login.concurrency} CPU - Argon2 CPU", extra, "ms", "<= 1.5 ms", extra <= 1.5))
    login32 = _find(results, "login", 32)
    if login32:
        tail = login32.percentile(0.99) / login32.percentile(0.5)
        found.append(Check("login x32 p99 / p50", tail, "x", "<= 4", tail <= 4))
    for jwt in (r for r in results if r.name == "introspection, JWT"):
        opaque = _find(results, "introspection, opaque", jwt.concurrency)
        if opaque:
            # Their rounds ran in turns: each JWT round against the opaque round next to it; the median of those.
            pairs = sorted(j / o for j, o in zip(jwt.round_rates, opaque.round_rates, strict=True))
            share = pairs[len(pairs) // 2]
            found.append(
                Check(f"introspection x{jwt.concurrency}: JWT / opaque", share * 100, "%", ">= 85%", share >= 0.85)
            )
    for r in results:
        if r.concurrency == 64 and r.name != "login":
            p99 = r.percentile(0.99)
            found.append(Check(f"{r.name} x64 p99", p99, "ms", "< 50 ms", p99 < 50))
    current = next((r for r in results if r.name == "accounts/current"), None)
    if current:
        found.append(Check("accounts/current per second", current.rate, "/s", ">= 2000/s", current.rate >= 2000))
    return found


def _ms(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def render(results: list[Result], argon2: Argon2Limit, machine: Machine, args: argparse.Namespace) -> str:
    params = describe(tenant_parameters())
    rows = [
        (
            f"Measured {date.today().isoformat()} on {machine.cores} cores ({machine.cpu}), {args.workers} service "
            f"workers, Argon2id {params}; 1-minute load average {machine.load_before:.1f} before, "
            f"{machine.load_after:.1f} after. Median of {args.rounds} rounds of {args.seconds:.0f} s per operation; "
            "CPU per request over every round."
        ),
        "",
        (
            "| operation | connections | per second | p50 ms | p99 ms | service CPU ms/request "
            "| of which event loops | PostgreSQL + Redis CPU ms/request | errors |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        (
            f"| Argon2id verify ({params}), every core | {machine.cores} processes | {argon2.rate:.0f} | | "
            f"| {argon2.cpu_ms:.2f} per verification | | | |"
        ),
    ]
    rows += [
        f"| {r.name} | {r.concurrency} | {r.rate:.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} "
        f"| {_ms(r.service_ms)} | {_ms(r.event_loop_ms)} | {_ms(r.backing_ms)} | {r.errors} |"
        for r in results
    ]
    rows += ["", "| goal | this run | target | |", "|---|---:|---|---|"]
    rows += [
        f"| {c.measure} | {c.value:.1f} {c.unit} | {c.goal} | {'met' if c.met else 'MISSED'} |"
        for c in checks(results, argon2)
    ]
    return "\n".join(rows)


def as_json(results: list[Result], argon2: Argon2Limit, machine: Machine, args: argparse.Namespace) -> dict:
    return {
        "date": date.today().isoformat(),
        "machine": {"cores": machine.cores, "cpu": machine.cpu, "load": [machine.load_before, machine.load_after]},
        "workers": args.workers,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "argon2": {"parameters": describe(tenant_parameters()), **argon2.as_json()},
        "operations": [
            {
                "name": r.name,
                "connections": r.concurrency,
                "per_second": r.rate,
                "round_rates": r.round_rates,
                "argon2_before_each_round": [limit.as_json() for limit in r.limits],
                "p50_ms": r.percentile(0.5),
                "p99_ms": r.percentile(0.99),
                "service_cpu_ms": r.service_ms,
                "event_loops_cpu_ms": r.event_loop_ms,
                "backing_cpu_ms": None if math.isnan(r.backing_ms) else r.backing_ms,
                "errors": r.errors,
            }
            for r in results
        ],
        "goals": [
            {"measure": c.measure, "value": c.value, "unit": c.unit, "goal": c.goal, "met": c.met}
            for c in checks(results, argon2)
        ],
    }
