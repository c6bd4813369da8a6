"""Customer sessions in Redis: one record per login, with its opaque tokens and refresh family.

Keys (spelled in `service.platform.keyspace`; digests only, never tokens): the session, which expires
with its refresh token (idle and absolute limits); the account's session ids, to end them all at once;
each opaque access token (→ session id and claims) and refresh token (→ session id, current or retired
with its successor). An account's keys share one hash slot, so each operation below is one script on
Redis Cluster too; every key a script touches is in its KEYS.

A token is active only while its session exists and, for access tokens, while its access-token
version (`atv`) is the session's: revoking one access token bumps the version and so retires every
access token of that session, opaque and JWT alike.

Refresh rotation is in `rotation.py`; the record itself in `record.py`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

import msgspec

from service.accounts.records import Account
from service.platform.crypto import token_digest
from service.platform.keyspace import (
    access_key,
    account_sessions_key,
    account_tag,
    refresh_key,
    session_key,
    sessions_set_key,
    untagged_account_sessions_key,
)
from service.platform.redis import RedisClient, text
from service.platform.replica_acks import AcknowledgedWrites
from service.sessions.record import SessionRecord, account_snapshot, decode_session, encode_session
from service.sessions.tokens import (
    ACCESS_PREFIX,
    REFRESH_PREFIX,
    AccessRecord,
    IssuedTokens,
    RefreshRecord,
    SessionReference,
    now_ms,
    session_id_in,
    session_token,
)

# KEYS: session, the account's sessions, access token, refresh token, then any to delete. ARGV: session, its id,
# its ttl (ms), the access record, its ttl, the refresh record, the session's absolute time left. The set of the
# account's sessions lives as long as the longest of them can, so refreshes never touch it.
_CREATE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[2], ARGV[7]) end
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
redis.call('SET', KEYS[4], ARGV[6], 'PX', ARGV[3])
for i = 5, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
"""

# KEYS: a token, its session. ARGV: the session id the token names, and for access tokens 'atv' (the
# version must be the session's). The token and the session back, or false.
_TOKEN_AND_SESSION = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local token = cjson.decode(raw)
if token.sid ~= ARGV[1] then return false end
local session = redis.call('GET', KEYS[2])
if not session then return false end
if ARGV[2] == 'atv' and cjson.decode(session).atv ~= token.atv then return false end
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

# KEYS: a session, the set that lists it. ARGV: its id.
_END = """
local ended = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return ended
"""

# KEYS: an account's sessions set, then its sessions; ARGV: their ids, as the caller read the set. -1 when the
# set lists a session the caller did not see (a login meanwhile), else how many sessions ended.
_END_LISTED = """
local listed = {}
for i = 1, #ARGV do listed[ARGV[i]] = true end
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not listed[sid] then return -1 end
end
local ended = 0
for i = 2, #KEYS do ended = ended + redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[1])
return ended
"""

_KEY_OF_TOKEN: dict[str, Callable[[str | None, str], str]] = {ACCESS_PREFIX: access_key, REFRESH_PREFIX: refresh_key}


async def token_session_id(redis: RedisClient, token: str, prefix: str) -> str | None:
    """The session a customer token names. A token from before session ids had a tag does not name it: its
    record does, so those (and only those) cost one more round trip."""
    sid = session_id_in(token, prefix)
    if sid is None:
        raw = await redis.get(_KEY_OF_TOKEN[prefix](None, token_digest(token)))
        sid = msgspec.json.decode(raw, type=SessionReference).sid if raw else None
    return sid


class Sessions:
    def __init__(self, *, redis: RedisClient, writes: AcknowledgedWrites) -> None:
        self.redis = redis
        self._writes = writes  # every write of a session goes through it (GATEHOUSE_REDIS_WAIT_REPLICAS)
        self._create = redis.register_script(_CREATE)
        self._token_and_session = redis.register_script(_TOKEN_AND_SESSION)
        self._session_of = redis.register_script(_SESSION_OF)
        self._bump = redis.register_script(_BUMP_ACCESS_VERSION)
        self._replace_account = redis.register_script(_REPLACE_ACCOUNT)
        self._end = redis.register_script(_END)
        self._end_listed = redis.register_script(_END_LISTED)

    async def create(self, template: SessionRecord, clears: Sequence[str] = ()) -> tuple[SessionRecord, IssuedTokens]:
        """Store a new session with its first token pair; the stored record and the tokens come back. The
        session's id is made here: it starts with the account's hash tag. `clears`: keys under that tag to delete
        in the same script (a login's failed attempts)."""
        now = now_ms()
        sid = f"{account_tag(template.tenant_id, template.account_id)}.{secrets.token_urlsafe(16)}"
        ttl = min(template.idle_seconds * 1000, template.absolute_expiry_ms - now)
        access, refresh = session_token(ACCESS_PREFIX, sid), session_token(REFRESH_PREFIX, sid)
        refresh_digest, access_digest = token_digest(refresh), token_digest(access)
        jti = secrets.token_urlsafe(12)
        access_ms = min(template.access_seconds * 1000, ttl)
        record = msgspec.structs.replace(
            template, session_id=sid, refresh_digest=refresh_digest, access_version=1, created_ms=now, last_used_ms=now
        )
        access_record = AccessRecord(sid=sid, atv=1, jti=jti, iat=now // 1000, exp=(now + access_ms) // 1000)
        await self._writes.script(
            self._create,
            keys=[
                session_key(sid),
                account_sessions_key(template.tenant_id, template.account_id),
                access_key(sid, access_digest),
                refresh_key(sid, refresh_digest),
                *clears,
            ],
            args=[
                encode_session(record), sid, ttl, msgspec.json.encode(access_record), access_ms,
                msgspec.json.encode(RefreshRecord(sid=sid, state="current")), template.absolute_expiry_ms - now,
            ],
        )  # fmt: skip
        return record, IssuedTokens(access, refresh, now + access_ms, now + ttl, jti)

    async def session_for_refresh(self, refresh_token: str, *, current_only: bool = False) -> SessionRecord | None:
        """The session of a refresh token: of a retired one too, unless `current_only`."""
        found = await self._token_with_session(refresh_token, REFRESH_PREFIX)
        if not found or (current_only and msgspec.json.decode(found[0], type=RefreshRecord).state != "current"):
            return None
        return decode_session(found[1])

    async def validate_access(self, access_token: str) -> tuple[AccessRecord, SessionRecord] | None:
        """(token record, session) of an active opaque access token, else None."""
        if not access_token.startswith(ACCESS_PREFIX):
            return None
        found = await self._token_with_session(access_token, ACCESS_PREFIX)
        if not found:
            return None
        return msgspec.json.decode(found[0], type=AccessRecord), decode_session(found[1])

    async def _token_with_session(self, token: str, prefix: str) -> list[str] | None:
        sid = await token_session_id(self.redis, token, prefix)
        if sid is None:
            return None
        token_key = _KEY_OF_TOKEN[prefix](sid, token_digest(token))
        check = "atv" if prefix == ACCESS_PREFIX else "-"
        found = await self._token_and_session(keys=[token_key, session_key(sid)], args=[sid, check])
        return list(found) if found else None

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
        sid = session.session_id
        listed_in = sessions_set_key(session.tenant_id, session.account_id, sid)
        await self._writes.script(self._end, keys=[session_key(sid), listed_in], args=[sid])

    async def end_access_tokens(self, sid: str) -> None:
        await self._writes.script(self._bump, keys=[session_key(sid)])

    async def list_for_account(self, tenant_id: int, account_id: int) -> list[SessionRecord]:
        records: list[SessionRecord] = []
        for set_key in _sets_of(tenant_id, account_id):
            records += await self._listed(set_key)
        return records

    async def _listed(self, set_key: str) -> list[SessionRecord]:
        sids = sorted(await self._members(set_key))
        if not sids:
            return []
        raws = await self.redis.mget([session_key(sid) for sid in sids])
        stale = [sid for sid, raw in zip(sids, raws, strict=False) if raw is None]
        if stale:
            await self.redis.srem(set_key, *stale)
        return [decode_session(raw) for raw in raws if raw]

    async def update_account(self, tenant_id: int, account: Account) -> None:
        """An account changed: its live sessions answer refreshes with the new version (without contacts, which
        refreshes do not carry)."""
        snapshot = account_snapshot(msgspec.structs.replace(account, contacts=()))
        for set_key in _sets_of(tenant_id, account.id):
            for sid in await self._members(set_key):
                replace, args = self._replace_account, [snapshot, account.login_name]
                await self._writes.script(replace, keys=[session_key(sid)], args=args)

    async def _members(self, set_key: str) -> set[str]:
        return {text(sid) for sid in await self.redis.smembers(set_key)}

    async def end_all_for_account(self, tenant_id: int, account_id: int) -> int:
        """End every session of the account, atomically (its sessions share a hash slot); how many ended."""
        ended = 0
        for set_key in _sets_of(tenant_id, account_id):
            ended += await self._end_all_listed(set_key)
        return ended

    async def _end_all_listed(self, set_key: str) -> int:
        while True:  # again when a login added a session between reading the set and the script
            sids = sorted(await self._members(set_key))
            if not sids:
                return 0
            keys = [set_key, *map(session_key, sids)]
            ended = int(await self._writes.script(self._end_listed, keys=keys, args=sids))
            if ended >= 0:
                return ended


def _sets_of(tenant_id: int, account_id: int) -> tuple[str, str]:
    """The account's sessions set, and the one of its sessions opened before session ids had a hash tag (on a
    server upgraded from then; elsewhere it is empty)."""
    return account_sessions_key(tenant_id, account_id), untagged_account_sessions_key(tenant_id, account_id)
