"""CPU time of the processes a benchmark drives, read from /proc: on a shared, noisy machine the rate moves by ±20%
from run to run, the CPU a request costs the service far less."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """User and system time of one process; `with_children` adds that of its children that have exited."""
    return _stat_cpu(f"/proc/{pid}/stat", (11, 12, 13, 14) if with_children else (11, 12))


def main_thread_cpu(pid: int) -> float:
    """User and system time of a process's first thread alone: in a uvicorn worker, its event loop, apart from the
    threads it hands work to (the Argon2 hashing threads)."""
    return _stat_cpu(f"/proc/{pid}/task/{pid}/stat", (11, 12))


def _stat_cpu(path: str, fields_at: tuple[int, ...]) -> float:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return sum(int(fields[i]) for i in fields_at) / _TICKS


def descendants(pid: int) -> list[int]:
    """The live children of `pid`, theirs, and so on (uvicorn's workers, multiprocessing's helpers)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(child) for child in task.read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def tree_cpu(pid: int) -> float:
    """CPU time of a process and of all its descendants, live or exited."""
    return sum(cpu_seconds(p, with_children=True) for p in [pid, *descendants(pid)])


def process_tree_cpu(parent: int | None) -> float:
    """A server's CPU time so far: the parent's, with that of its children that have exited, and its live
    children's (PostgreSQL's backends, autovacuum and writers; Gatehouse's workers). NaN for a server this
    machine did not start."""
    if parent is None:
        return float("nan")
    total = cpu_seconds(parent, with_children=True)
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f"\nPPid:\t{parent}\n" in (proc / "status").read_text():
                total += cpu_seconds(int(proc.name))
        except OSError:
            continue
    return total


def redis_pid(redis_url: str) -> int | None:
    """The embedded Redis: the process started with this URL's socket (other runs on the machine have their own)."""
    if not redis_url.startswith("unix://"):
        return None
    socket_path = redis_url.removeprefix("unix://").encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and socket_path in (proc / "cmdline").read_bytes():
                return int(proc.name)
        except OSError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class CpuReading:
    """CPU seconds so far: the service's, of which its event loops' (the processes' first threads), and that of
    PostgreSQL + Redis."""

    service: float
    event_loops: float
    backing: float

    def __sub__(self, earlier: CpuReading) -> CpuReading:
        return CpuReading(
            self.service - earlier.service, self.event_loops - earlier.event_loops, self.backing - earlier.backing
        )

    def __add__(self, other: CpuReading) -> CpuReading:
        return CpuReading(
            self.service + other.service, self.event_loops + other.event_loops, self.backing + other.backing
        )


NO_CPU = CpuReading(0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class CpuMeter:
    """The service's processes and, when embedded, its PostgreSQL and Redis."""

    service_pid: int
    postmaster: int | None
    redis: int | None

    def read(self) -> CpuReading:
        backing = process_tree_cpu(self.postmaster) + (cpu_seconds(self.redis) if self.redis else float("nan"))
        service_processes = [self.service_pid, *descendants(self.service_pid)]
        loops = sum(main_thread_cpu(pid) for pid in service_processes)
        return CpuReading(tree_cpu(self.service_pid), loops, backing)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"
