"""Per-account lockout and per-address throttling, counted in Redis and shared by every process.

An attempt reserves its failure slot *before* the password is checked, in one atomic script, so any
number of parallel guesses can never get more than the tenant's limit of verifications. A success
gives the slot back (clears the count); the failure that reaches the limit locks the account for
the tenant's lock time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from service.platform.keyspace import account_failures_key, account_lock_key, address_failures_key
from service.tenants.settings import LockoutPolicy, ThrottlePolicy

_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""

_RESERVE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if count > tonumber(ARGV[2]) then return -1 end
return count
"""


@dataclass(frozen=True, slots=True)
class AccountCounters:
    failures: int
    first_failure_ms: int | None
    locked_seconds_left: int  # 0 when not locked by failures


class Lockout:
    def __init__(self, *, redis: Redis) -> None:
        self.redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._count = redis.register_script(_COUNT)

    async def reserve_attempt(self, tenant_id: int, account_id: int, policy: LockoutPolicy) -> int | None:
        """The attempt's number within the window, or None when the account is locked."""
        result = await self._reserve(
            keys=[account_failures_key(tenant_id, account_id), account_lock_key(tenant_id, account_id)],
            args=[policy.window_minutes * 60_000, policy.max_failures],
        )
        return None if result == -1 else int(result)

    async def failed(self, tenant_id: int, account_id: int, attempt: int, policy: LockoutPolicy) -> bool:
        """Record a failure; True when it locked the account."""
        if attempt < policy.max_failures:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(account_lock_key(tenant_id, account_id), "1", ex=policy.lock_minutes * 60)
            pipe.delete(account_failures_key(tenant_id, account_id))
            await pipe.execute()
        return True

    async def succeeded(self, tenant_id: int, account_id: int) -> None:
        await self.redis.delete(account_failures_key(tenant_id, account_id))

    async def unlock(self, tenant_id: int, account_id: int) -> None:
        await self.redis.delete(account_failures_key(tenant_id, account_id), account_lock_key(tenant_id, account_id))

    async def counters(self, tenant_id: int, account_id: int, policy: LockoutPolicy) -> AccountCounters:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(account_failures_key(tenant_id, account_id))
            pipe.pttl(account_failures_key(tenant_id, account_id))
            pipe.ttl(account_lock_key(tenant_id, account_id))
            failures, failures_ttl_ms, lock_ttl = await pipe.execute()
        # The window started at the first failure, so its remaining time tells when that was.
        first = int(time.time() * 1000) - (policy.window_minutes * 60_000 - failures_ttl_ms) if failures else None
        return AccountCounters(int(failures or 0), first, max(int(lock_ttl), 0))

    # --- per client address ---------------------------------------------------------------------

    async def address_blocked_for(self, tenant_id: int, address: str | None, policy: ThrottlePolicy) -> int:
        """Seconds the address must wait, 0 when it may try."""
        if address is None:
            return 0
        key = address_failures_key(tenant_id, address)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = await pipe.execute()
        return max(int(ttl), 1) if int(count or 0) >= policy.max_failures_per_address else 0

    async def address_failed(self, tenant_id: int, address: str | None, policy: ThrottlePolicy) -> None:
        if address is None:
            return
        await self._count(keys=[address_failures_key(tenant_id, address)], args=[policy.window_minutes * 60_000])
