"""Customer logins' limits: per-account lockout and per-address throttling, shared by every process.

The account lockout is the tenant's lockout policy on the attempt limiter (service.limits.attempts):
a login reserves its slot *before* the password is checked, so parallel guesses never get more
than the tenant's limit of verifications; a success clears the count, and the failure that
reaches the limit locks the account for the tenant's lock time.

The address throttle counts failures only: an address that has reached its limit waits until its
window ends.
"""

from __future__ import annotations

from service.limits.attempts import AttemptCounters, AttemptLimiter, AttemptPolicy
from service.platform.keyspace import account_attempt_keys, address_failures_key
from service.platform.redis import RedisClient
from service.tenants.settings import LockoutPolicy, ThrottlePolicy

_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def attempt_policy(lockout: LockoutPolicy) -> AttemptPolicy:
    """A tenant's lockout settings as an attempt limit: they govern its customers' logins on every route."""
    return AttemptPolicy(lockout.max_failures, lockout.window_minutes * 60, lockout.lock_minutes * 60)


class Lockout:
    def __init__(self, *, redis: RedisClient, attempts: AttemptLimiter) -> None:
        self.redis = redis
        self.attempts = attempts
        self._count = redis.register_script(_COUNT)

    async def reserve_attempt(self, tenant_id: int, account_id: int, policy: LockoutPolicy) -> int | None:
        """The attempt's number within the window, or None when the account is locked."""
        reservation = await self.attempts.reserve(account_attempt_keys(tenant_id, account_id), attempt_policy(policy))
        return reservation.number if reservation.granted else None

    async def failed(self, tenant_id: int, account_id: int, attempt: int, policy: LockoutPolicy) -> bool:
        """Record a failure; True when it locked the account."""
        return await self.attempts.failed(account_attempt_keys(tenant_id, account_id), attempt, attempt_policy(policy))

    async def succeeded(self, tenant_id: int, account_id: int) -> None:
        await self.attempts.succeeded(account_attempt_keys(tenant_id, account_id))

    @staticmethod
    def cleared_by_login(tenant_id: int, account_id: int) -> str:
        """The key a successful login deletes (its failures), in the script that opens its session: one round trip
        instead of two. It shares the hash tag of the account's sessions."""
        return account_attempt_keys(tenant_id, account_id).failures

    async def unlock(self, tenant_id: int, account_id: int) -> None:
        await self.attempts.unlock(account_attempt_keys(tenant_id, account_id))

    async def counters(self, tenant_id: int, account_id: int, policy: LockoutPolicy) -> AttemptCounters:
        return await self.attempts.counters(account_attempt_keys(tenant_id, account_id), attempt_policy(policy))

    # --- per client address ---------------------------------------------------------------------

    async def address_blocked_for(self, tenant_id: int, address: str | None, policy: ThrottlePolicy) -> int:
        """Seconds the address must wait, 0 when it may try."""
        if address is None:
            return 0
        key = address_failures_key(tenant_id, address)
        # One GET for the address that may try (every login asks); how long to wait only for one that may not.
        if int(await self.redis.get(key) or 0) < policy.max_failures_per_address:
            return 0
        return max(int(await self.redis.ttl(key)), 1)

    async def address_failed(self, tenant_id: int, address: str | None, policy: ThrottlePolicy) -> None:
        if address is None:
            return
        await self._count(keys=[address_failures_key(tenant_id, address)], args=[policy.window_minutes * 60_000])
