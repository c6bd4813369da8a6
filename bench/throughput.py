"""Driving one operation for a fixed time on many keep-alive connections, with the CPU the service spends on it.

Each round measures the service's processes' CPU time (and PostgreSQL's and Redis's, when embedded) over exactly
the window its requests ran in; an operation's CPU per request is its rounds' CPU over their requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.argon2_limit import Argon2Limit
from bench.harness import HttpConnection, log
from bench.processes import NO_CPU, CpuMeter, CpuReading

Call = Callable[[HttpConnection, int], Awaitable[bool]]


@dataclass
class Result:
    name: str
    concurrency: int
    count: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu: CpuReading = NO_CPU  # seconds, over every round
    counted: int = 0  # requests of every round, for the CPU per request
    round_rates: list[float] = field(default_factory=list)
    limits: list[Argon2Limit] = field(default_factory=list)  # logins: the Argon2 limit measured before each round

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000

    def _per_request_ms(self, seconds: float) -> float:
        return seconds / max(self.counted, 1) * 1000

    @property
    def service_ms(self) -> float:
        """The service's CPU per request, over every round."""
        return self._per_request_ms(self.cpu.service)

    @property
    def event_loop_ms(self) -> float:
        """Of which its event loops' (the rest is the hashing threads')."""
        return self._per_request_ms(self.cpu.event_loops)

    @property
    def backing_ms(self) -> float:
        return self._per_request_ms(self.cpu.backing)


async def measure(
    name: str,
    host: str,
    port: int,
    concurrency: int,
    seconds: float,
    make_call: Call,
    rounds: int,
    meter: CpuMeter | None = None,
    before_round: Callable[[], Awaitable[Argon2Limit]] | None = None,
) -> Result:
    """The median of `rounds` runs by rate (on a shared 2-core machine single runs swing by ±20%), with the CPU of
    every round; `before_round` measures the limit a round is compared with."""
    runs = []
    limits = []
    cpu = NO_CPU
    for round_number in range(rounds):
        if before_round is not None:
            limits.append(await before_round())
        before = meter.read() if meter else NO_CPU
        runs.append(await drive(name, host, port, concurrency, seconds, make_call))
        spent = (meter.read() if meter else NO_CPU) - before
        cpu += spent
        cpu_note = f", {spent.service / max(runs[-1].count, 1) * 1000:.2f} ms CPU/request" if meter else ""
        log(f"  {name} x{concurrency} round {round_number + 1}/{rounds}: {runs[-1].rate:.0f}/s{cpu_note}")
    median = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
    median.cpu = cpu
    median.counted = sum(r.count + r.errors for r in runs)
    median.round_rates = [r.rate for r in runs]
    median.limits = limits
    return median


async def drive(name: str, host: str, port: int, concurrency: int, seconds: float, make_call: Call) -> Result:
    """Run `make_call(connection, loop_index)` in `concurrency` loops for `seconds`."""
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
    return Result(name, concurrency, len(latencies) - errors, errors, time.perf_counter() - started, latencies)
