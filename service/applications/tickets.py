"""Application auth tickets: opaque bearer tokens for API clients, kept in Redis.

A ticket is an access token and a refresh token, each 256 random bits, stored only as SHA-256
digests. The refresh token is single-use: refreshing deletes it atomically (GETDEL) and issues a
new pair, so a stolen refresh token works at most once. Tokens carry the application's
generation; disabling the application or rotating its secret bumps it and ends every ticket.

The application's state (enabled, behaviors, generation) comes from `service.applications.state`, so that
authenticating a call costs one Redis round trip and no PostgreSQL query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.applications import repository as repo
from service.applications.behaviors import Behavior
from service.applications.recent import RecentAnswers
from service.applications.state import ApplicationStates
from service.errors import ErrorCode, Forbidden, Unauthenticated
from service.platform.crypto import constant_time_equals, new_token, token_digest
from service.platform.db import Database
from service.platform.keyspace import APP_STATE_KEY_PREFIX, app_refresh_token_key, app_token_key
from service.platform.redis import RedisClient

ACCESS_PREFIX = "gh_at_"
REFRESH_PREFIX = "gh_rt_"
_NO_SUCH_SECRET = token_digest("no application has this secret")
_TOKEN_AND_STATE = """
local token = redis.call('GET', KEYS[1])
if not token then return false end
local state = redis.call('GET', ARGV[1] .. cjson.decode(token).app)
if not state then return {token} end
return {token, state}
"""


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime

    def seconds_left(self, moment: datetime) -> int:
        return max(int((moment - datetime.now(UTC)).total_seconds()), 0)


@dataclass(frozen=True, slots=True)
class AppPrincipal:
    """The application behind an `/api/...` call."""

    application_id: int
    tenant_id: int
    client_id: str
    behaviors: frozenset[str]

    @property
    def actor_name(self) -> str:
        return f"app:{self.client_id}"

    def require(self, behavior: Behavior) -> None:
        if behavior.value not in self.behaviors:
            raise Forbidden(f"The application lacks the behavior '{behavior.value}'.", code=ErrorCode.MISSING_BEHAVIOR)


def invalid_client() -> Unauthenticated:
    return Unauthenticated(
        "The client id or secret is wrong, or the application is disabled.",
        code=ErrorCode.INVALID_CLIENT,
        oauth_error="invalid_client",
    )


def invalid_refresh_token() -> Unauthenticated:
    return Unauthenticated(
        "The refresh token is unknown, used or expired.",
        code=ErrorCode.INVALID_REFRESH_TOKEN,
        oauth_error="invalid_grant",
    )


def invalid_app_token() -> Unauthenticated:
    return Unauthenticated("A valid application token is required.", code=ErrorCode.INVALID_APP_TOKEN)


class AppTickets:
    def __init__(self, *, db: Database, redis: RedisClient, access_minutes: int, refresh_minutes: int) -> None:
        self.db = db
        self.redis = redis
        self.access_ttl = access_minutes * 60
        self.refresh_ttl = refresh_minutes * 60
        self._verified_clients: dict[str, tuple[str, int, int]] = {}
        self._token_and_state = redis.register_script(_TOKEN_AND_STATE)
        self._recent_tokens: RecentAnswers[str, AppPrincipal] = RecentAnswers()  # by token digest
        self.states = ApplicationStates(db=db, redis=redis)

    async def sign_in(self, client_id: str, client_secret: str) -> IssuedTicket:
        row = await repo.find_by_client_id(self.db, client_id)
        stored = row.secret_hash if row else _NO_SUCH_SECRET
        if not constant_time_equals(stored, token_digest(client_secret)) or row is None or not row.is_enabled:
            raise invalid_client()
        return await self._issue(row.id, row.tenant_id, row.generation)

    async def refresh(self, refresh_token: str) -> IssuedTicket:
        raw = await self.redis.getdel(app_refresh_token_key(token_digest(refresh_token)))
        if raw is None:
            raise invalid_refresh_token()
        record = json.loads(raw)
        await self._end_access_token(record["at"])
        state = await self.states.get(record["app"])
        if state is None or not state.is_enabled or state.generation != record["gen"]:
            raise invalid_refresh_token()
        return await self._issue(record["app"], state.tenant_id, state.generation)

    async def revoke(self, refresh_token: str) -> None:
        """End a ticket by its refresh token; unknown tokens are ignored, as RFC 7009 does."""
        raw = await self.redis.getdel(app_refresh_token_key(token_digest(refresh_token)))
        if raw is not None:
            await self._end_access_token(json.loads(raw)["at"])

    async def _end_access_token(self, access_digest: str) -> None:
        await self.redis.delete(app_token_key(access_digest))
        self._recent_tokens.drop(lambda digest, _: digest == access_digest)

    async def forget(self, *application_ids: int) -> None:
        """After an application changed: drop its state from Redis and from this worker's memory."""
        if not application_ids:
            return
        await self.states.forget(*application_ids)
        self._recent_tokens.drop(lambda _, principal: principal.application_id in application_ids)

    async def authenticate(self, access_token: str) -> AppPrincipal:
        if not access_token.startswith(ACCESS_PREFIX):
            raise invalid_app_token()
        digest = token_digest(access_token)
        principal = self._recent_tokens.get(digest)
        if principal is not None:
            return principal
        # One round trip: the token and, when cached, its application's state.
        found = await self._token_and_state(keys=[app_token_key(digest)], args=[APP_STATE_KEY_PREFIX])
        if not found:
            raise invalid_app_token()
        record = json.loads(found[0])
        state = await self.states.resolve(record["app"], found[1] if len(found) > 1 else None)
        if state is None or not state.is_enabled or state.generation != record["gen"]:
            raise invalid_app_token()
        principal = AppPrincipal(record["app"], state.tenant_id, state.client_id, state.behaviors)
        self._recent_tokens.put(digest, principal)
        return principal

    async def verify_client(self, client_id: str, client_secret: str) -> AppPrincipal:
        """Client credentials without issuing a ticket (introspection callers).

        A verified (client id, secret digest) is remembered per process together with the
        application's generation, so repeated calls need no PostgreSQL query and a rotated secret
        or a disabled application is refused at once.
        """
        digest = token_digest(client_secret)
        remembered = self._verified_clients.get(client_id)
        if remembered is None or not constant_time_equals(remembered[0], digest):
            row = await repo.find_by_client_id(self.db, client_id)
            stored = row.secret_hash if row else _NO_SUCH_SECRET
            if not constant_time_equals(stored, digest) or row is None:
                raise invalid_client()
            remembered = (digest, row.id, row.generation)
            self._verified_clients[client_id] = remembered
        state = await self.states.get(remembered[1])
        if state is None or not state.is_enabled or state.generation != remembered[2]:
            self._verified_clients.pop(client_id, None)
            raise invalid_client()
        return AppPrincipal(remembered[1], state.tenant_id, state.client_id, state.behaviors)

    async def principal_for(self, application_id: int) -> AppPrincipal:
        """The application a customer session was opened through, while it stays enabled."""
        state = await self.states.get(application_id)
        if state is None or not state.is_enabled:
            raise invalid_app_token()
        return AppPrincipal(application_id, state.tenant_id, state.client_id, state.behaviors)

    async def _issue(self, application_id: int, tenant_id: int, generation: int) -> IssuedTicket:
        now = datetime.now(UTC)
        access, refresh = new_token(ACCESS_PREFIX), new_token(REFRESH_PREFIX)
        access_digest = token_digest(access)
        access_record = json.dumps({"app": application_id, "tenant": tenant_id, "gen": generation})
        refresh_record = json.dumps({"app": application_id, "gen": generation, "at": access_digest})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(app_token_key(access_digest), access_record, ex=self.access_ttl)
            pipe.set(app_refresh_token_key(token_digest(refresh)), refresh_record, ex=self.refresh_ttl)
            await pipe.execute()
        return IssuedTicket(
            access, now + timedelta(seconds=self.access_ttl), refresh, now + timedelta(seconds=self.refresh_ttl)
        )
