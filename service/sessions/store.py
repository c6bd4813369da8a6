"""Customer sessions in Redis: one record per login, with its opaque tokens and refresh family.

Keys (digests only, never tokens):
  gh:sess:{sid}                 the session; expires with its refresh token (idle and absolute limits)
  gh:acctsess:{tenant}:{acct}   the account's session ids, to end them all at once
  gh:cat:{digest}               an opaque access token → session id and claims
  gh:crt:{digest}               a refresh token → session id, current or retired (with its successor)

A token is active only while its session exists and, for access tokens, while its access-token
version (`atv`) is the session's: revoking one access token bumps the version and so retires every
access token of that session, opaque and JWT alike.

Refresh rotation runs as one Lua script, so it is atomic across any number of service processes.
The successor of a retired refresh token is kept for the grace window, encrypted with a key derived
from the retired token itself: only its holder can read it back, and storage still holds no usable
token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio import Redis

from service.platform.keyspace import (
    ACCESS_KEY_PREFIX, REFRESH_KEY_PREFIX, SESSION_KEY_PREFIX, access_key, account_sessions_key,
    account_sessions_key_prefix, refresh_key, session_key,
)
from service.platform.crypto import new_token, token_digest

ACCESS_PREFIX = "gh_cat_"
REFRESH_PREFIX = "gh_crt_"


_VALIDATE_ACCESS = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local token = cjson.decode(raw)
local session = redis.call('GET', ARGV[1] .. token.sid)
if not session then return false end
local s = cjson.decode(session)
if s.atv ~= token.atv then return false end
return {raw, session}
"""

_REFRESH_SESSION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local session = redis.call('GET', ARGV[1] .. cjson.decode(raw).sid)
if not session then return false end
return {raw, session}
"""

_SESSION_OF = """
local session = redis.call('GET', KEYS[1])
if not session then return false end
local s = cjson.decode(session)
if s.atv ~= tonumber(ARGV[1]) then return false end
return session
"""

# The whole refresh in one round trip. The successor's tokens come in ready-made (random, with
# `blob` their encryption under the presented token); the session's fields go back out, so the
# caller builds the ticket after the fact and refresh never reads Redis twice.
_ROTATE = """
local parent_raw = redis.call('GET', KEYS[1])
if not parent_raw then return {'invalid'} end
local parent = cjson.decode(parent_raw)
local session_prefix, tenant_sessions_prefix, access_prefix, refresh_prefix = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local session_key = session_prefix .. parent.sid
local session_raw = redis.call('GET', session_key)
if not session_raw then return {'invalid'} end
local s = cjson.decode(session_raw)
if s.tid ~= tonumber(ARGV[6]) then return {'invalid'} end
local now = tonumber(ARGV[2])
local account_key = tenant_sessions_prefix .. s.acct
if parent.state == 'retired' or s.rt ~= ARGV[1] then
  if parent.state == 'retired' and parent.succ == s.rt and (now - parent.retired) <= s.grace * 1000 then
    local access_left = redis.call('PTTL', access_prefix .. parent.succ_at)
    local refresh_left = redis.call('PTTL', refresh_prefix .. parent.succ)
    return {'grace', session_raw, now + math.max(access_left, 0), now + math.max(refresh_left, 0), parent.blob}
  end
  redis.call('DEL', session_key)
  redis.call('SREM', account_key, s.sid)
  return {'reuse'}
end
local absolute_left = s.abs - now
if absolute_left <= 0 then
  redis.call('DEL', session_key)
  return {'invalid'}
end
local ttl = math.min(s.idle * 1000, absolute_left)
local access_ms = math.max(math.min(s.access * 1000, ttl), 1)
parent.state = 'retired'
parent.retired = now
parent.succ = ARGV[3]
parent.succ_at = ARGV[4]
parent.blob = ARGV[7]
redis.call('SET', KEYS[1], cjson.encode(parent), 'PX', ttl)
redis.call('SET', refresh_prefix .. ARGV[3], cjson.encode({sid = s.sid, state = 'current'}), 'PX', ttl)
local access = {sid = s.sid, atv = s.atv, jti = ARGV[5], iat = math.floor(now / 1000), exp = math.floor((now + access_ms) / 1000)}
redis.call('SET', access_prefix .. ARGV[4], cjson.encode(access), 'PX', access_ms)
s.rt = ARGV[3]
s.last = now
redis.call('SET', session_key, cjson.encode(s), 'PX', ttl)
redis.call('PEXPIRE', account_key, ttl)
return {'rotated', session_raw, now + access_ms, now + ttl}
"""

_REPLACE_ACCOUNT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
s.account = ARGV[1]
s.user = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1
"""

_BUMP_ACCESS_VERSION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
s.atv = s.atv + 1
redis.call('SET', KEYS[1], cjson.encode(s), 'KEEPTTL')
return 1
"""


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_ms: int
    refresh_expires_ms: int
    jti: str


@dataclass(frozen=True, slots=True)
class RotationResult:
    outcome: str  # "rotated", "grace", "reuse", "invalid"
    session: dict[str, Any] | None = None
    successor: IssuedTokens | None = None


def now_ms() -> int:
    return int(time.time() * 1000)


def pack_account(account: dict[str, Any]) -> str:
    """The account a session or pending login carries, as JSON text. Lua scripts update those records with
    Redis's cjson, which re-encodes an empty list as `{}`; a string passes through unchanged."""
    return json.dumps(account)


def session_account(record: dict[str, Any]) -> dict[str, Any]:
    account = record["account"]
    return json.loads(account) if isinstance(account, str) else account  # records stored before packing


def _grace_cipher(parent_token: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"gatehouse refresh grace\x00" + parent_token.encode()).digest())


def seal_for(parent_token: str, payload: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    sealed = _grace_cipher(parent_token).encrypt(nonce, json.dumps(payload).encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def open_with(parent_token: str, blob: str) -> dict[str, Any]:
    raw = base64.b64decode(blob)
    return json.loads(_grace_cipher(parent_token).decrypt(raw[:12], raw[12:], None))


class Sessions:
    def __init__(self, *, redis: Redis) -> None:
        self.redis = redis
        self._validate = redis.register_script(_VALIDATE_ACCESS)
        self._session_of = redis.register_script(_SESSION_OF)
        self._refresh_session = redis.register_script(_REFRESH_SESSION)
        self._rotate = redis.register_script(_ROTATE)
        self._bump = redis.register_script(_BUMP_ACCESS_VERSION)
        self._replace_account = redis.register_script(_REPLACE_ACCOUNT)

    @staticmethod
    def new_session_id() -> str:
        return secrets.token_urlsafe(16)

    async def create(self, session: dict[str, Any], access_seconds: int) -> IssuedTokens:
        """Store a new session with its first token pair. `session` carries sid, tid, acct, idle, abs..."""
        now = now_ms()
        ttl = min(session["idle"] * 1000, session["abs"] - now)
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        refresh_digest = token_digest(refresh)
        jti = secrets.token_urlsafe(12)
        access_ms = min(access_seconds * 1000, ttl)
        record = {**session, "rt": refresh_digest, "atv": 1, "created": now, "last": now}
        access_record = self.access_record(record, jti, now, now + access_ms)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(session_key(session["sid"]), json.dumps(record), px=ttl)
            pipe.sadd(account_sessions_key(session["tid"], session["acct"]), session["sid"])
            pipe.pexpire(account_sessions_key(session["tid"], session["acct"]), ttl)
            pipe.set(access_key(token_digest(access)), json.dumps(access_record), px=access_ms)
            pipe.set(refresh_key(refresh_digest), json.dumps({"sid": session["sid"], "state": "current"}), px=ttl)
            await pipe.execute()
        return IssuedTokens(access, refresh, now + access_ms, now + ttl, jti)

    @staticmethod
    def access_record(session: dict[str, Any], jti: str, issued_ms: int, expires_ms: int) -> dict[str, Any]:
        return {"sid": session["sid"], "atv": session["atv"], "jti": jti, "iat": issued_ms // 1000, "exp": expires_ms // 1000}

    async def session_for_refresh(self, refresh_token: str, *, current_only: bool = False) -> dict[str, Any] | None:
        """The session of a refresh token: of a retired one too, unless `current_only`."""
        found = await self._refresh_session(keys=[refresh_key(token_digest(refresh_token))], args=[SESSION_KEY_PREFIX])
        if not found or (current_only and json.loads(found[0])["state"] != "current"):
            return None
        return json.loads(found[1])

    async def rotate(self, parent_token: str, tenant_id: int) -> RotationResult:
        """Retire `parent_token` and issue its successor, atomically; see _ROTATE.

        Rotated or within the grace window, the result carries the session and the successor's tokens;
        a retired token outside the window has ended its session ("reuse").
        """
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        jti = secrets.token_urlsafe(12)
        parent_digest = token_digest(parent_token)
        blob = seal_for(parent_token, {"access": access, "refresh": refresh, "jti": jti})
        result = await self._rotate(
            keys=[refresh_key(parent_digest)],
            args=[parent_digest, now_ms(), token_digest(refresh), token_digest(access), jti, tenant_id, blob,
                  SESSION_KEY_PREFIX, account_sessions_key_prefix(tenant_id), ACCESS_KEY_PREFIX, REFRESH_KEY_PREFIX],
        )
        outcome = result[0]
        if outcome == "rotated":
            return RotationResult(outcome, json.loads(result[1]), IssuedTokens(access, refresh, int(result[2]), int(result[3]), jti))
        if outcome == "grace":
            sealed = open_with(parent_token, result[4])
            tokens = IssuedTokens(sealed["access"], sealed["refresh"], int(result[2]), int(result[3]), sealed["jti"])
            return RotationResult(outcome, json.loads(result[1]), tokens)
        return RotationResult(outcome)

    async def validate_access(self, access_token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(token record, session) of an active opaque access token, else None."""
        if not access_token.startswith(ACCESS_PREFIX):
            return None
        found = await self._validate(keys=[access_key(token_digest(access_token))], args=[SESSION_KEY_PREFIX])
        if not found:
            return None
        return json.loads(found[0]), json.loads(found[1])

    async def session_if_current(self, sid: str, access_version: int) -> dict[str, Any] | None:
        """The session of a JWT access token, when the session lives and its access tokens are current."""
        raw = await self._session_of(keys=[session_key(sid)], args=[access_version])
        return json.loads(raw) if raw else None

    async def expires_at_ms(self, sid: str) -> int:
        return now_ms() + max(await self.redis.pttl(session_key(sid)), 0)

    async def get(self, sid: str) -> dict[str, Any] | None:
        raw = await self.redis.get(session_key(sid))
        return json.loads(raw) if raw else None

    async def end(self, session: dict[str, Any]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(session_key(session["sid"]))
            pipe.srem(account_sessions_key(session["tid"], session["acct"]), session["sid"])
            await pipe.execute()

    async def end_access_tokens(self, sid: str) -> None:
        await self._bump(keys=[session_key(sid)])

    async def list_for_account(self, tenant_id: int, account_id: int) -> list[dict[str, Any]]:
        sids = sorted(await self.redis.smembers(account_sessions_key(tenant_id, account_id)))
        if not sids:
            return []
        raws = await self.redis.mget([session_key(sid) for sid in sids])
        stale = [sid for sid, raw in zip(sids, raws) if raw is None]
        if stale:
            await self.redis.srem(account_sessions_key(tenant_id, account_id), *stale)
        return [json.loads(raw) for raw in raws if raw]

    async def update_account(self, tenant_id: int, account_id: int, account: dict[str, Any]) -> None:
        """An account changed: its live sessions answer refreshes with the new version."""
        snapshot = pack_account({**account, "contacts": []})
        user = account["emailAddress"] or account["userName"] or ""
        for sid in await self.redis.smembers(account_sessions_key(tenant_id, account_id)):
            await self._replace_account(keys=[session_key(sid)], args=[snapshot, user])

    async def end_all_for_account(self, tenant_id: int, account_id: int) -> int:
        key = account_sessions_key(tenant_id, account_id)
        sids = await self.redis.smembers(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            for sid in sids:
                pipe.delete(session_key(sid))
            pipe.delete(key)
            await pipe.execute()
        return len(sids)
