"""Refresh-token rotation: retire the presented token and issue its successor, atomically, in one script.

Reuse of a retired token ends its session (a stolen token used after its owner refreshed, or the other
way round). The one exception is the immediate parent replayed within the tenant's grace window (a
client that lost the answer): it gets the same successor. That successor is kept encrypted with a key
derived from the parent token itself, so only the parent's holder can read it back and storage still
holds no usable token. One Lua script, so it is atomic across any number of service processes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from enum import Enum

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.platform.crypto import token_digest
from service.platform.keyspace import (
    access_key,
    is_tagged_session_id,
    refresh_key,
    session_key,
    untagged_account_sessions_key,
)
from service.platform.metrics import metrics
from service.platform.redis import RedisClient
from service.platform.replica_acks import AcknowledgedWrites
from service.sessions.record import SessionRecord, decode_session
from service.sessions.store import token_session_id
from service.sessions.tokens import ACCESS_PREFIX, REFRESH_PREFIX, IssuedTokens, now_ms, session_token

# The whole refresh in one round trip. KEYS: the presented token, its session, the successor's refresh and
# access tokens (one hash slot: the session's). The successor's tokens come in ready-made (random, with `blob`
# their encryption under the presented token); the session's fields go back out, so the caller builds the
# ticket after the fact and refresh never reads Redis twice. ARGV: the presented token's digest, now (ms), the
# successor refresh token's digest, its access token's jti, the caller's tenant, `blob`, the session id. A
# retired token keeps when its successor's tokens expire, for the grace answer. A session that ends here stays
# listed in its account's set until a listing or a revoke-all drops it.
_ROTATE = """
local parent_raw = redis.call('GET', KEYS[1])
if not parent_raw then return {'invalid'} end
local parent = cjson.decode(parent_raw)
if parent.sid ~= ARGV[7] then return {'invalid'} end
local session_raw = redis.call('GET', KEYS[2])
if not session_raw then return {'invalid'} end
local s = cjson.decode(session_raw)
if s.tid ~= tonumber(ARGV[5]) then return {'invalid'} end
local now = tonumber(ARGV[2])
if parent.state == 'retired' or s.rt ~= ARGV[1] then
  if parent.state == 'retired' and parent.succ == s.rt and (now - parent.retired) <= s.grace * 1000 then
    return {'grace', session_raw, parent.succ_exp or now, parent.succ_rexp or now, parent.blob}
  end
  redis.call('DEL', KEYS[2])
  return {'reuse', session_raw}
end
local absolute_left = s.abs - now
if absolute_left <= 0 then
  redis.call('DEL', KEYS[2])
  return {'invalid'}
end
local ttl = math.min(s.idle * 1000, absolute_left)
local access_ms = math.max(math.min(s.access * 1000, ttl), 1)
parent.state = 'retired'
parent.retired = now
parent.succ = ARGV[3]
parent.succ_exp = now + access_ms
parent.succ_rexp = now + ttl
parent.blob = ARGV[6]
redis.call('SET', KEYS[1], cjson.encode(parent), 'PX', ttl)
redis.call('SET', KEYS[3], cjson.encode({sid = s.sid, state = 'current'}), 'PX', ttl)
local access = {sid = s.sid, atv = s.atv, jti = ARGV[4], iat = math.floor(now / 1000),
                exp = math.floor((now + access_ms) / 1000)}
redis.call('SET', KEYS[4], cjson.encode(access), 'PX', access_ms)
s.rt = ARGV[3]
s.last = now
redis.call('SET', KEYS[2], cjson.encode(s), 'PX', ttl)
return {'rotated', session_raw, now + access_ms, now + ttl}
"""


class Outcome(Enum):
    ROTATED = "rotated"
    GRACE = "grace"  # the parent replayed within the grace window: the same successor again
    REUSE = "reuse"  # a retired token: its session has ended (the result carries it, without a successor)
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class RotationResult:
    outcome: Outcome
    session: SessionRecord | None = None
    successor: IssuedTokens | None = None


class _Successor(msgspec.Struct, frozen=True):
    access: str
    refresh: str
    jti: str


def _grace_cipher(parent_token: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"gatehouse refresh grace\x00" + parent_token.encode()).digest())


def _seal_for(parent_token: str, successor: _Successor) -> str:
    nonce = os.urandom(12)
    sealed = _grace_cipher(parent_token).encrypt(nonce, msgspec.json.encode(successor), None)
    return base64.b64encode(nonce + sealed).decode()


def _open_with(parent_token: str, blob: str) -> _Successor:
    raw = base64.b64decode(blob)
    return msgspec.json.decode(_grace_cipher(parent_token).decrypt(raw[:12], raw[12:], None), type=_Successor)


# A session opened before session ids had a hash tag is listed in a set that its refreshes keep alive.
_KEEP_LISTED = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
"""


class RefreshRotation:
    def __init__(self, *, redis: RedisClient, writes: AcknowledgedWrites) -> None:
        self.redis = redis
        self._rotate = redis.register_script(_ROTATE)
        self._keep_listed = redis.register_script(_KEEP_LISTED)
        self._writes = writes  # GATEHOUSE_REDIS_WAIT_REPLICAS: an answered rotation is on the replicas

    async def rotate(self, parent_token: str, tenant_id: int) -> RotationResult:
        """Retire `parent_token` and issue its successor; see _ROTATE.

        Rotated or within the grace window, the result carries the session and the successor's tokens;
        a retired token outside the window has ended its session (REUSE).
        """
        sid = await token_session_id(self.redis, parent_token, REFRESH_PREFIX)
        successor = None
        if sid is None:
            result: list[str] = [Outcome.INVALID.value]
        else:
            successor = _Successor(
                session_token(ACCESS_PREFIX, sid), session_token(REFRESH_PREFIX, sid), secrets.token_urlsafe(12)
            )
            result = await self._run(parent_token, sid, successor, tenant_id)
        outcome = Outcome(result[0])
        metrics().refresh_rotations.labels(outcome.value).inc()
        if outcome is Outcome.GRACE:
            successor = _open_with(parent_token, result[4])
        elif outcome is Outcome.REUSE:
            return RotationResult(outcome, decode_session(result[1]))  # the session it ended, to be recorded
        if successor is None or outcome not in (Outcome.ROTATED, Outcome.GRACE):
            return RotationResult(outcome)
        session = decode_session(result[1])
        if outcome is Outcome.ROTATED and not is_tagged_session_id(session.session_id):
            listed = untagged_account_sessions_key(session.tenant_id, session.account_id)
            await self._keep_listed(keys=[listed], args=[int(result[3]) - now_ms()])
        tokens = IssuedTokens(successor.access, successor.refresh, int(result[2]), int(result[3]), successor.jti)
        return RotationResult(outcome, session, tokens)

    async def _run(self, parent_token: str, sid: str, successor: _Successor, tenant_id: int) -> list[str]:
        parent_digest, successor_digest = token_digest(parent_token), token_digest(successor.refresh)
        keys = [
            refresh_key(sid, parent_digest),
            session_key(sid),
            refresh_key(sid, successor_digest),
            access_key(sid, token_digest(successor.access)),
        ]
        sealed = _seal_for(parent_token, successor)
        args: list[str | int] = [parent_digest, now_ms(), successor_digest, successor.jti, tenant_id, sealed, sid]
        return list(await self._writes.script(self._rotate, keys=keys, args=args))
