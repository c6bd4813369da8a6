"""Pending logins and emailed codes, in Redis.

A pending login exists between a correct password and the second factor. Its token (`gh_pl_…`)
opens nothing but the second step. Every code guess first spends one of the challenge's attempts
in an atomic script, so parallel guesses cannot exceed the limit; the last wrong guess ends the
challenge. Codes are stored as digests and compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from typing import Any

from service.platform.crypto import new_token, token_digest
from service.platform.keyspace import pending_by_user_key, pending_key
from service.platform.redis import RedisClient, text

PENDING_PREFIX = "gh_pl_"
PENDING_SECONDS = 10 * 60
MAX_CODE_SENDS = 5

# Spend one attempt; the challenge is gone once none are left.
_SPEND_ATTEMPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local record = cjson.decode(raw)
if record.attempts <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
record.attempts = record.attempts - 1
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return raw
"""


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_digest(code: str) -> str:
    return token_digest(f"gatehouse code\x00{code.strip()}")


def code_matches(stored_digest: str | None, code: str) -> bool:
    return stored_digest is not None and hmac.compare_digest(stored_digest, code_digest(code))


class Challenges:
    def __init__(self, *, redis: RedisClient) -> None:
        self.redis = redis
        self._spend = redis.register_script(_SPEND_ATTEMPT)

    # --- pending logins ---------------------------------------------------------------------------

    async def open_pending(self, record: dict[str, Any]) -> tuple[str, int]:
        """Store a pending login; returns its token and lifetime in seconds."""
        token = new_token(PENDING_PREFIX)
        digest = token_digest(token)
        # Two independent keys (no transaction: Cluster may keep them on two nodes). The caller gets the token
        # only once both are written; either one alone leads nowhere.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(pending_key(digest), json.dumps(record), ex=PENDING_SECONDS)
            pipe.set(pending_by_user_key(record["tid"], record["uid"]), digest, ex=PENDING_SECONDS)
            await pipe.execute()
        return token, PENDING_SECONDS

    async def pending_digest(self, token: str | None, tenant_id: int, user_id: str | None) -> str | None:
        if token:
            return token_digest(token) if token.startswith(PENDING_PREFIX) else None
        if user_id:
            digest = await self.redis.get(pending_by_user_key(tenant_id, user_id))
            return text(digest) if digest is not None else None
        return None

    async def peek_pending(self, digest: str) -> dict[str, Any] | None:
        raw = await self.redis.get(pending_key(digest))
        return json.loads(raw) if raw else None

    async def set_pending_code(self, digest: str, record: dict[str, Any], code: str, ttl_seconds: int) -> None:
        record = {
            **record,
            "code": code_digest(code),
            "code_exp": _now() + ttl_seconds,
            "sends": record.get("sends", 0) + 1,
        }
        await self.redis.set(pending_key(digest), json.dumps(record), keepttl=True)

    async def spend_pending_attempt(self, digest: str) -> dict[str, Any] | None:
        raw = await self._spend(keys=[pending_key(digest)])
        return json.loads(raw) if raw else None

    async def claim_pending(self, digest: str, record: dict[str, Any]) -> bool:
        """The one winner of a correct second factor takes the pending login away."""
        claimed = await self.redis.getdel(pending_key(digest))
        await self.redis.delete(pending_by_user_key(record["tid"], record["uid"]))
        return claimed is not None

    async def end_pending(self, digest: str, record: dict[str, Any]) -> None:
        await self.redis.delete(pending_key(digest), pending_by_user_key(record["tid"], record["uid"]))

    # --- passwordless email codes -----------------------------------------------------------------

    async def issue_email_code(self, key: str, account_id: int, ttl_seconds: int, attempts: int) -> str | None:
        """A new code, unless one was sent less than 30 s ago (no mail-bombing through this route)."""
        existing = await self.redis.get(key)
        if existing and _now() - json.loads(existing)["sent"] < 30:
            return None
        code = new_code()
        record = {"acct": account_id, "code": code_digest(code), "attempts": attempts, "sent": _now()}
        await self.redis.set(key, json.dumps(record), ex=ttl_seconds)
        return code

    async def spend_email_code_attempt(self, key: str) -> dict[str, Any] | None:
        raw = await self._spend(keys=[key])
        return json.loads(raw) if raw else None

    async def claim_email_code(self, key: str) -> bool:
        return await self.redis.getdel(key) is not None


def _now() -> int:
    return int(time.time())
