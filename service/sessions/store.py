"""Customer sessions in Redis: one record per login, with its opaque tokens and refresh family.

Keys (spelled in `service.platform.keyspace`; digests only, never tokens): the session, which expires
with its refresh token (idle and absolute limits); the account's session ids, to end them all at once;
each opaque access token (→ session id and claims) and refresh token (→ session id, current or retired
with its successor).

A token is active only while its session exists and, for access tokens, while its access-token
version (`atv`) is the session's: revoking one access token bumps the version and so retires every
access token of that session, opaque and JWT alike.

Refresh rotation is in `rotation.py`; the record itself in `record.py`.
"""

from __future__ import annotations

import secrets

import msgspec

from service.accounts.records import Account
from service.platform.crypto import new_token, token_digest
from service.platform.keyspace import SESSION_KEY_PREFIX, access_key, account_sessions_key, refresh_key, session_key
from service.platform.redis import RedisClient, RedisPipeline, text
from service.platform.replica_acks import AcknowledgedWrites
from service.sessions.record import SessionRecord, account_snapshot, decode_session, encode_session
from service.sessions.tokens import ACCESS_PREFIX, REFRESH_PREFIX, AccessRecord, IssuedTokens, RefreshRecord, now_ms

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


class Sessions:
    def __init__(self, *, redis: RedisClient, writes: AcknowledgedWrites) -> None:
        self.redis = redis
        self._writes = writes  # every write of a session goes through it (GATEHOUSE_REDIS_WAIT_REPLICAS)
        self._validate = redis.register_script(_VALIDATE_ACCESS)
        self._session_of = redis.register_script(_SESSION_OF)
        self._refresh_session = redis.register_script(_REFRESH_SESSION)
        self._bump = redis.register_script(_BUMP_ACCESS_VERSION)
        self._replace_account = redis.register_script(_REPLACE_ACCOUNT)

    @staticmethod
    def new_session_id() -> str:
        return secrets.token_urlsafe(16)

    async def create(self, session: SessionRecord) -> tuple[SessionRecord, IssuedTokens]:
        """Store a new session with its first token pair; the stored record and the tokens come back."""
        now = now_ms()
        ttl = min(session.idle_seconds * 1000, session.absolute_expiry_ms - now)
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        refresh_digest = token_digest(refresh)
        jti = secrets.token_urlsafe(12)
        access_ms = min(session.access_seconds * 1000, ttl)
        record = msgspec.structs.replace(
            session, refresh_digest=refresh_digest, access_version=1, created_ms=now, last_used_ms=now
        )
        access_record = AccessRecord(
            sid=session.session_id, atv=1, jti=jti, iat=now // 1000, exp=(now + access_ms) // 1000
        )
        account_key = account_sessions_key(session.tenant_id, session.account_id)

        def store(pipe: RedisPipeline) -> None:
            pipe.set(session_key(session.session_id), encode_session(record), px=ttl)
            pipe.sadd(account_key, session.session_id)
            pipe.pexpire(account_key, ttl)
            pipe.set(access_key(token_digest(access)), msgspec.json.encode(access_record), px=access_ms)
            refresh_record = RefreshRecord(sid=session.session_id, state="current")
            pipe.set(refresh_key(refresh_digest), msgspec.json.encode(refresh_record), px=ttl)

        await self._writes.transaction(session_key(session.session_id), store)
        return record, IssuedTokens(access, refresh, now + access_ms, now + ttl, jti)

    async def session_for_refresh(self, refresh_token: str, *, current_only: bool = False) -> SessionRecord | None:
        """The session of a refresh token: of a retired one too, unless `current_only`."""
        found = await self._refresh_session(keys=[refresh_key(token_digest(refresh_token))], args=[SESSION_KEY_PREFIX])
        if not found or (current_only and msgspec.json.decode(found[0], type=RefreshRecord).state != "current"):
            return None
        return decode_session(found[1])

    async def validate_access(self, access_token: str) -> tuple[AccessRecord, SessionRecord] | None:
        """(token record, session) of an active opaque access token, else None."""
        if not access_token.startswith(ACCESS_PREFIX):
            return None
        found = await self._validate(keys=[access_key(token_digest(access_token))], args=[SESSION_KEY_PREFIX])
        if not found:
            return None
        return msgspec.json.decode(found[0], type=AccessRecord), decode_session(found[1])

    async def session_if_current(self, sid: str, access_version: int) -> SessionRecord | None:
        """The session of a JWT access token, when the session lives and its access tokens are current."""
        raw = await self._session_of(keys=[session_key(sid)], args=[access_version])
        return decode_session(raw) if raw else None

    async def expires_at_ms(self, sid: str) -> int:
        return now_ms() + max(await self.redis.pttl(session_key(sid)), 0)

    async def get(self, sid: str) -> SessionRecord | None:
        raw = await self.redis.get(session_key(sid))
        return decode_session(raw) if raw else None

    async def end(self, session: SessionRecord) -> None:
        def remove(pipe: RedisPipeline) -> None:
            pipe.delete(session_key(session.session_id))
            pipe.srem(account_sessions_key(session.tenant_id, session.account_id), session.session_id)

        await self._writes.transaction(session_key(session.session_id), remove)

    async def end_access_tokens(self, sid: str) -> None:
        await self._writes.script(self._bump, keys=[session_key(sid)])

    async def list_for_account(self, tenant_id: int, account_id: int) -> list[SessionRecord]:
        sids = sorted(await self._session_ids(tenant_id, account_id))
        if not sids:
            return []
        raws = await self.redis.mget([session_key(sid) for sid in sids])
        stale = [sid for sid, raw in zip(sids, raws, strict=False) if raw is None]
        if stale:
            await self.redis.srem(account_sessions_key(tenant_id, account_id), *stale)
        return [decode_session(raw) for raw in raws if raw]

    async def update_account(self, tenant_id: int, account: Account) -> None:
        """An account changed: its live sessions answer refreshes with the new version (without contacts, which
        refreshes do not carry)."""
        snapshot = account_snapshot(msgspec.structs.replace(account, contacts=()))
        for sid in await self._session_ids(tenant_id, account.id):
            await self._writes.script(
                self._replace_account, keys=[session_key(sid)], args=[snapshot, account.login_name]
            )

    async def _session_ids(self, tenant_id: int, account_id: int) -> set[str]:
        return {text(sid) for sid in await self.redis.smembers(account_sessions_key(tenant_id, account_id))}

    async def end_all_for_account(self, tenant_id: int, account_id: int) -> int:
        key = account_sessions_key(tenant_id, account_id)
        sids = await self._session_ids(tenant_id, account_id)

        def remove(pipe: RedisPipeline) -> None:
            for sid in sids:
                pipe.delete(session_key(sid))
            pipe.delete(key)

        await self._writes.transaction(key, remove)
        return len(sids)
