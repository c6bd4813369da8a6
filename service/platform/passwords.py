"""Password hashing: Argon2id on a pool of threads, with a decoy hash for users that do not exist."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.platform.metrics import metrics

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """OWASP's minimum for Argon2id: 19 MiB of memory, 2 iterations, 1 lane."""

    memory_kib: int = 19 * 1024
    iterations: int = 2
    parallelism: int = 1


class Passwords:
    """Argon2id hashing that never blocks the event loop.

    argon2-cffi releases the GIL while hashing, so threads give real parallelism — but no more
    than the cores can take: more hashes at once than cores only thrash the CPU caches (each hash
    walks 19 MiB), so each process gets `max_parallel` hashing threads and the rest queue.
    Each tenant may choose stronger parameters; hashers are kept per parameter set.
    """

    def __init__(self, default: Argon2Parameters = Argon2Parameters(), *, max_parallel: int = 1) -> None:
        self._default = default
        self._executor = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="argon2")
        self._hashers: dict[Argon2Parameters, PasswordHasher] = {}
        # Verified against when the user does not exist, so that "no such user" costs the same
        # time as "wrong password" and cannot be told apart by timing.
        self._decoy_hashes: dict[Argon2Parameters, str] = {}
        self._decoy_hash(default)

    def _hasher(self, parameters: Argon2Parameters | None) -> PasswordHasher:
        parameters = parameters or self._default
        hasher = self._hashers.get(parameters)
        if hasher is None:
            hasher = self._hashers[parameters] = PasswordHasher(
                time_cost=parameters.iterations,
                memory_cost=parameters.memory_kib,
                parallelism=parameters.parallelism,
                hash_len=32,
                salt_len=16,
                type=Type.ID,
            )
        return hasher

    async def hash(self, password: str, parameters: Argon2Parameters | None = None) -> str:
        return await self._run(self._hasher(parameters).hash, password)

    async def verify(self, stored_hash: str | None, password: str, parameters: Argon2Parameters | None = None) -> bool:
        """True when `password` matches; with no stored hash, burns the same time and says False."""
        if stored_hash is None:
            await self._run(self._verify_sync, self._decoy_hash(parameters), password)
            return False
        return await self._run(self._verify_sync, stored_hash, password)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        queued = time.perf_counter()

        def timed() -> T:
            metrics().argon2_queue_wait.observe(time.perf_counter() - queued)
            return work(*args)

        return await asyncio.get_running_loop().run_in_executor(self._executor, timed)

    def _decoy_hash(self, parameters: Argon2Parameters | None) -> str:
        parameters = parameters or self._default
        decoy = self._decoy_hashes.get(parameters)
        if decoy is None:
            decoy = self._decoy_hashes[parameters] = self._hasher(parameters).hash(secrets.token_urlsafe(16))
        return decoy

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher(None).verify(stored_hash, password)  # parameters are read from the hash
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str, parameters: Argon2Parameters | None = None) -> bool:
        return self._hasher(parameters).check_needs_rehash(stored_hash)
