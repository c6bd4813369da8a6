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

from service.platform.crypto import new_token, token_digest
from service.platform.keyspace import (
    ACCESS_KEY_PREFIX,
    REFRESH_KEY_PREFIX,
    SESSION_KEY_PREFIX,
    account_sessions_key_prefix,
    refresh_key,
)
from service.platform.metrics import metrics
from service.platform.redis import RedisClient
from service.platform.replica_acks import AcknowledgedWrites
from service.sessions.record import SessionRecord, decode_session
from service.sessions.tokens import ACCESS_PREFIX, REFRESH_PREFIX, IssuedTokens, now_ms

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
  return {'reuse', session_raw}
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
local access = {sid = s.sid, atv = s.atv, jti = ARGV[5], iat = math.floor(now / 1000),
                exp = math.floor((now + access_ms) / 1000)}
redis.call('SET', access_prefix .. ARGV[4], cjson.encode(access), 'PX', access_ms)
s.rt = ARGV[3]
s.last = now
redis.call('SET', session_key, cjson.encode(s), 'PX', ttl)
redis.call('PEXPIRE', account_key, ttl)
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


class RefreshRotation:
    def __init__(self, *, redis: RedisClient, writes: AcknowledgedWrites) -> None:
        self._rotate = redis.register_script(_ROTATE)
        self._writes = writes  # GATEHOUSE_REDIS_WAIT_REPLICAS: an answered rotation is on the replicas

    async def rotate(self, parent_token: str, tenant_id: int) -> RotationResult:
        """Retire `parent_token` and issue its successor; see _ROTATE.

        Rotated or within the grace window, the result carries the session and the successor's tokens;
        a retired token outside the window has ended its session (REUSE).
        """
        successor = _Successor(new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX), secrets.token_urlsafe(12))
        parent_digest = token_digest(parent_token)
        result = await self._writes.script(
            self._rotate,
            keys=[refresh_key(parent_digest)],
            args=[
                parent_digest,
                now_ms(),
                token_digest(successor.refresh),
                token_digest(successor.access),
                successor.jti,
                tenant_id,
                _seal_for(parent_token, successor),
                SESSION_KEY_PREFIX,
                account_sessions_key_prefix(tenant_id),
                ACCESS_KEY_PREFIX,
                REFRESH_KEY_PREFIX,
            ],
        )
        outcome = Outcome(result[0])
        metrics().refresh_rotations.labels(outcome.value).inc()
        if outcome is Outcome.GRACE:
            successor = _open_with(parent_token, result[4])
        elif outcome is Outcome.REUSE:
            return RotationResult(outcome, decode_session(result[1]))  # the session it ended, to be recorded
        elif outcome is not Outcome.ROTATED:
            return RotationResult(outcome)
        tokens = IssuedTokens(successor.access, successor.refresh, int(result[2]), int(result[3]), successor.jti)
        return RotationResult(outcome, decode_session(result[1]), tokens)
