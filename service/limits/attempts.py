"""The one attempt limiter behind every sign-in: failures counted in a window, then a lock.

An attempt takes its slot *before* the password is checked, in one atomic script, so any number
of parallel guesses get at most `max_attempts` verifications per window. The failure that
reaches the limit locks the key for the lock time and starts the count afresh; a success clears
the count. Everything is in Redis, so every process shares the same limits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from service.platform.keyspace import AttemptKeys
from service.platform.redis import RedisClient

# KEYS: failures, lock. ARGV: window (ms), max attempts.
# Returns {attempt number, 0} when the attempt may go ahead, else {0, ms it should wait}: a lock
# that has been set, or a window whose attempts are all taken (their outcome still pending).
_RESERVE = """
local lock_left = redis.call('PTTL', KEYS[2])
if lock_left ~= -2 then return {0, math.max(lock_left, 1)} end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if count > tonumber(ARGV[2]) then return {0, math.max(redis.call('PTTL', KEYS[1]), 1)} end
return {count, 0}
"""


# KEYS: failures, lock. ARGV: now (ms), window (ms), lock (s). The lock keeps when the window's first failure
# was (the value), so a locked key still tells how many failures locked it and since when.
_LOCK = """
local window_left = redis.call('PTTL', KEYS[1])
local first = tonumber(ARGV[1]) - (tonumber(ARGV[2]) - math.max(window_left, 0))
redis.call('SET', KEYS[2], first, 'EX', ARGV[3])
redis.call('DEL', KEYS[1])
return first
"""


@dataclass(frozen=True, slots=True)
class AttemptPolicy:
    max_attempts: int
    window_seconds: int  # counted from the window's first attempt
    lock_seconds: int


@dataclass(frozen=True, slots=True)
class Reservation:
    number: int  # the attempt's number within the window; 0 when it was refused
    wait_ms: int  # for a refused attempt, how long until the key takes attempts again

    @property
    def granted(self) -> bool:
        return self.number > 0

    @property
    def retry_after_seconds(self) -> int:
        return max(-(-self.wait_ms // 1000), 1)


@dataclass(frozen=True, slots=True)
class AttemptCounters:
    failures: int
    first_failure_ms: int | None
    locked_seconds_left: int  # 0 when not locked by failures


class AttemptLimiter:
    def __init__(self, *, redis: RedisClient) -> None:
        self.redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._lock = redis.register_script(_LOCK)

    async def reserve(self, keys: AttemptKeys, policy: AttemptPolicy) -> Reservation:
        """Take the attempt's slot; call before the password check, then `failed` or `succeeded`."""
        number, wait_ms = await self._reserve(
            keys=[keys.failures, keys.lock], args=[policy.window_seconds * 1000, policy.max_attempts]
        )
        return Reservation(int(number), int(wait_ms))

    async def failed(self, keys: AttemptKeys, attempt: int, policy: AttemptPolicy) -> bool:
        """Record that attempt number `attempt` failed; True when it reached the limit and locked the key."""
        if attempt < policy.max_attempts:
            return False
        now = int(time.time() * 1000)
        await self._lock(keys=[keys.failures, keys.lock], args=[now, policy.window_seconds * 1000, policy.lock_seconds])
        return True

    async def succeeded(self, keys: AttemptKeys) -> None:
        await self.redis.delete(keys.failures)

    async def unlock(self, keys: AttemptKeys) -> None:
        await self.redis.delete(keys.failures, keys.lock)

    async def counters(self, keys: AttemptKeys, policy: AttemptPolicy) -> AttemptCounters:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.failures)
            pipe.pttl(keys.failures)
            pipe.get(keys.lock)
            pipe.ttl(keys.lock)
            failures, failures_ttl_ms, locked_since, lock_ttl = await pipe.execute()
        if locked_since is not None:
            # Locked by failures: as many as the limit, the first of them when the lock recorded it.
            first = int(locked_since) if str(locked_since).isdigit() and int(locked_since) > 1 else None
            return AttemptCounters(policy.max_attempts, first, max(int(lock_ttl), 1))
        # The window started at the first failure, so its remaining time tells when that was.
        first = int(time.time() * 1000) - (policy.window_seconds * 1000 - failures_ttl_ms) if failures else None
        return AttemptCounters(int(failures or 0), first, 0)
