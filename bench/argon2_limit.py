"""The physical limit of login on this machine: Argon2id verifications per second with every core busy, with the
parameters of the tenant the benchmark logs in to, and the CPU time one verification takes there."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from service.accounts.password_policy import PasswordPolicy, argon2_parameters
from service.platform.passwords import Argon2Parameters


def tenant_parameters() -> Argon2Parameters:
    """The bench tenant keeps the default password policy: these are its Argon2id parameters."""
    return argon2_parameters(PasswordPolicy())


def describe(p: Argon2Parameters) -> str:
    return f"m={p.memory_kib // 1024} MiB, t={p.iterations}, p={p.parallelism}"


@dataclass(frozen=True, slots=True)
class Argon2Limit:
    rate: float  # verifications/s, all cores
    cpu_ms: float  # CPU per verification while every core hashes

    def as_json(self) -> dict[str, float]:
        return {"per_second": self.rate, "cpu_ms_per_verification": self.cpu_ms}


def _burst(seconds: float) -> tuple[int, float]:
    from argon2 import PasswordHasher, Type

    p = tenant_parameters()
    hasher = PasswordHasher(time_cost=p.iterations, memory_cost=p.memory_kib, parallelism=p.parallelism, type=Type.ID)
    stored = hasher.hash("benchmark passphrase 1")
    count, cpu_before, deadline = 0, time.process_time(), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hasher.verify(stored, "benchmark passphrase 1")
        count += 1
    return count, time.process_time() - cpu_before


def _round(pool: ProcessPoolExecutor, cores: int, seconds: float) -> Argon2Limit:
    bursts = list(pool.map(_burst, [seconds] * cores))
    count = sum(n for n, _ in bursts)
    return Argon2Limit(count / seconds, sum(cpu for _, cpu in bursts) / max(count, 1) * 1000)


class Argon2Rounds:
    """Rounds of the limit taken between the login rounds (one process per core, each verifying for the round's
    seconds): on a shared machine the limit moves with the load as much as the login rate does, so each login round
    is compared with the limit measured just before it."""

    def __init__(self) -> None:
        self.cores = len(os.sched_getaffinity(0))
        self.pool = ProcessPoolExecutor(self.cores)
        self.rounds: list[Argon2Limit] = []

    async def measure(self, seconds: float) -> Argon2Limit:
        self.rounds.append(await asyncio.to_thread(_round, self.pool, self.cores, seconds))
        return self.rounds[-1]

    def median(self) -> Argon2Limit:
        return sorted(self.rounds, key=lambda r: r.rate)[len(self.rounds) // 2]

    def close(self) -> None:
        self.pool.shutdown()
