"""Password hashing: Argon2id on a pool of threads, with a decoy hash for users that do not exist.

Hashes imported from other shops are checked on the same threads (`service.platform.legacy_hashes`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from service.platform.hash_slots import HashSlots
from service.platform.legacy_hashes import families, wrapped
from service.platform.metrics import metrics

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """OWASP's minimum for Argon2id: 19 MiB of memory, 2 iterations, 1 lane."""

    memory_kib: int = 19 * 1024
    iterations: int = 2
    parallelism: int = 1


@cache
def argon2_hasher(parameters: Argon2Parameters) -> PasswordHasher:
    """The Argon2id hasher for one parameter set; its `verify` reads the parameters from the hash instead."""
    return PasswordHasher(
        time_cost=parameters.iterations,
        memory_cost=parameters.memory_kib,
        parallelism=parameters.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


class Passwords:
    """Argon2id hashing that never blocks the event loop.

    argon2-cffi releases the GIL while hashing, so threads give real parallelism — but no more
    than the cores can take: more hashes at once than cores only thrash the CPU caches (each hash
    walks 19 MiB) and share the cores unfairly, so a process alone gets `max_parallel` hashing threads, the
    rest waiting in the executor's queue in arrival order. Under `gatehouse serve` each hash holds one of
    `max_parallel` slots shared by all its workers (`service.platform.hash_slots`) instead, and each worker
    keeps a thread for every hash waiting for a slot (up to `WAITING_PER_SLOT` per slot): the slots then go to
    the waiting logins of all workers in turn, not to the workers in turn, which made the logins of a worker
    that had twice the connections of the other wait twice as long.
    Each tenant may choose stronger parameters; hashers are kept per parameter set.
    """

    # Threads of one worker holding or waiting for each slot. A waiting thread sleeps in the kernel's flock and holds
    # no GIL, but every waiter on a slot wakes when it is released: on 2 cores, 16 threads per worker kept the logins of
    # 32 connections in turn at no extra CPU, where 64 cost 0.7 ms per login (login at 32 connections, A/B on the same
    # servers).
    # Beyond them, a worker's hashes wait in its own queue.
    WAITING_PER_SLOT = 8

    def __init__(
        self,
        default: Argon2Parameters = Argon2Parameters(),
        *,
        max_parallel: int = 1,
        slots: HashSlots | None = None,
    ) -> None:
        self._default = default
        self._slots = slots
        threads = max_parallel * self.WAITING_PER_SLOT if slots is not None else max_parallel
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        # Verified against when the user does not exist, so that "no such user" costs the same
        # time as "wrong password" and cannot be told apart by timing.
        self._decoy_hashes: dict[Argon2Parameters, str] = {}
        self._decoy_hash(default)

    def _hasher(self, parameters: Argon2Parameters | None) -> PasswordHasher:
        return argon2_hasher(parameters or self._default)

    async def hash(self, password: str, parameters: Argon2Parameters | None = None) -> str:
        return await self._run(self._hasher(parameters).hash, password)

    async def verify(
        self,
        stored_hash: str | None,
        password: str,
        parameters: Argon2Parameters | None = None,
        *,
        as_typed: str | None = None,
    ) -> bool:
        """True when `password` matches; with no stored hash, burns the same time and says False.

        `as_typed` is the password before normalisation: a hash imported from another shop was made from
        the password exactly as typed there."""
        typed = password if as_typed is None else as_typed
        if stored_hash is None:
            await self._run(self._decoy_check, password, parameters)
            return False
        return await self._run(self._verify_sync, stored_hash, password, typed, parameters)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        queued = time.perf_counter()

        def timed() -> T:
            if self._slots is None:
                metrics().argon2_queue_wait.observe(time.perf_counter() - queued)
                return work(*args)
            with self._slots.held():
                metrics().argon2_queue_wait.observe(time.perf_counter() - queued)
                return work(*args)

        return await asyncio.get_running_loop().run_in_executor(self._executor, timed)

    def _decoy_hash(self, parameters: Argon2Parameters | None) -> str:
        parameters = parameters or self._default
        decoy = self._decoy_hashes.get(parameters)
        if decoy is None:
            decoy = self._decoy_hashes[parameters] = self._hasher(parameters).hash(secrets.token_urlsafe(16))
        return decoy

    def _decoy_check(self, password: str, parameters: Argon2Parameters | None) -> None:
        self._argon2_matches(self._decoy_hash(parameters), password)

    def _verify_sync(self, stored_hash: str, password: str, typed: str, parameters: Argon2Parameters | None) -> bool:
        family = families.identify(stored_hash)
        if family == "argon2":
            return self._argon2_matches(stored_hash, password)
        if family == "wrapped":
            # Argon2id of the old shop's digest, which is made again from the password as typed.
            try:
                inner, digest = wrapped.unwrap(stored_hash, typed)
            except ValueError:
                return False
            return self._argon2_matches(inner, digest)
        # Stored as another shop made it (bcrypt, PBKDF2, Magento's Argon2 chains): the decoy's work as well, so
        # that a format cheaper than the tenant's Argon2id never answers sooner than an unknown user does.
        matched = families.verify(stored_hash, typed)
        self._decoy_check(password, parameters)
        return matched

    def _argon2_matches(self, stored_hash: str, secret: str) -> bool:
        try:
            return self._hasher(None).verify(stored_hash, secret)  # parameters are read from the hash
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str, parameters: Argon2Parameters | None = None) -> bool:
        """True unless this is Argon2id with exactly these parameters: an imported hash of any other form is
        replaced at its first successful login, and so is one made before the tenant changed its cost."""
        try:
            return self._hasher(parameters).check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
