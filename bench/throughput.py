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


@dataclass(frozen=True, slots=True)
class Target:
    """Where the load goes, and what measures the service's CPU meanwhile."""

    host: str
    port: int
    seconds: float
    meter: CpuMeter | None = None


class Rounds:
    """The rounds of one operation so far: the median round's rate and latencies (on a shared 2-core machine single
    runs swing by ±20%), the CPU of every round over exactly the window its requests ran in."""

    def __init__(self, name: str, concurrency: int, call: Call) -> None:
        self.name, self.concurrency, self.call = name, concurrency, call
        self.runs: list[Result] = []
        self.cpu = NO_CPU
        self.limits: list[Argon2Limit] = []

    async def run_one(self, target: Target, of_rounds: int) -> None:
        before = target.meter.read() if target.meter else NO_CPU
        run = await drive(self.name, target.host, target.port, self.concurrency, target.seconds, self.call)
        spent = (target.meter.read() if target.meter else NO_CPU) - before
        self.runs.append(run)
        self.cpu += spent
        cpu_note = f", {spent.service / max(run.count, 1) * 1000:.2f} ms CPU/request" if target.meter else ""
        log(f"  {self.name} x{self.concurrency} round {len(self.runs)}/{of_rounds}: {run.rate:.0f}/s{cpu_note}")

    def result(self) -> Result:
        median = sorted(self.runs, key=lambda r: r.rate)[len(self.runs) // 2]
        median.cpu = self.cpu
        median.counted = sum(r.count + r.errors for r in self.runs)
        median.round_rates = [r.rate for r in self.runs]
        median.limits = self.limits
        return median


async def measure(
    name: str,
    concurrency: int,
    call: Call,
    target: Target,
    rounds: int,
    before_round: Callable[[], Awaitable[Argon2Limit]] | None = None,
) -> Result:
    """`rounds` rounds of one operation; `before_round` measures the limit each round is compared with."""
    operation = Rounds(name, concurrency, call)
    for _ in range(rounds):
        if before_round is not None:
            operation.limits.append(await before_round())
        await operation.run_one(target, rounds)
    return operation.result()


async def alternate(operations: list[tuple[str, Call]], concurrency: int, target: Target, rounds: int) -> list[Result]:
    """Rounds of operations that are compared with each other, taken in turns: round i of each ran next to round i of
    the others, under about the same load from the rest of the machine."""
    taken = [Rounds(name, concurrency, call) for name, call in operations]
    for _ in range(rounds):
        for operation in taken:
            await operation.run_one(target, rounds)
    return [operation.result() for operation in taken]


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
