"""Application auth tickets: opaque bearer tokens for API clients, kept in Redis.

A ticket is an access token and a refresh token, each 256 random bits, stored only as SHA-256
digests. The refresh token is single-use: refreshing deletes it atomically (GETDEL) and issues a
new pair, so a stolen refresh token works at most once. Tokens carry the application's
generation; disabling the application or rotating its secret bumps it and ends every ticket.

The application's state (enabled, behaviors, generation) comes from `service.applications.state`, so that
authenticating a call costs one Redis round trip and no PostgreSQL query. Its tokens name the application
(`gh_at_<application id>.<random>`): their keys and its state share the application's hash slot, so that round
trip is one script on Redis Cluster too. Tickets issued before tokens named their application
(`gh_at_<random>`) keep working until they expire, at one more round trip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.applications import repository as repo
from service.applications.behaviors import Behavior
from service.applications.recent import RecentAnswers
from service.applications.state import ApplicationStates
from service.errors import ErrorCode, Forbidden, Unauthenticated
from service.platform.crypto import constant_time_equals, new_token, token_digest
from service.platform.db import Database
from service.platform.keyspace import app_refresh_token_key, app_state_key, app_token_key
from service.platform.redis import RedisClient, text

ACCESS_PREFIX = "gh_at_"
REFRESH_PREFIX = "gh_rt_"
_NO_SUCH_SECRET = token_digest("no application has this secret")
# KEYS: an access token, its application's state. ARGV: the application the token names.
_TOKEN_AND_STATE = """
local token = redis.call('GET', KEYS[1])
if not token or cjson.decode(token).app ~= tonumber(ARGV[1]) then return false end
local state = redis.call('GET', KEYS[2])
if not state then return {token} end
return {token, state}
"""
# KEYS: an access token, its refresh token. ARGV: their records, their lifetimes (s).
_ISSUE = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
return 1
"""


def application_token(prefix: str, application_id: int) -> str:
    return new_token(f"{prefix}{application_id}.")


def application_in(token: str, prefix: str) -> int | None:
    """The application a token names; None for one issued before tokens named it."""
    named, dot, _ = token.removeprefix(prefix).rpartition(".")
    return int(named) if dot and named.isascii() and named.isdigit() and len(named) < 19 else None


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
        self._issue_pair = redis.register_script(_ISSUE)
        self._recent_tokens: RecentAnswers[str, AppPrincipal] = RecentAnswers()  # by token digest
        self.states = ApplicationStates(db=db, redis=redis)

    async def sign_in(self, client_id: str, client_secret: str) -> IssuedTicket:
        row = await repo.find_by_client_id(self.db, client_id)
        stored = row.secret_hash if row else _NO_SUCH_SECRET
        if not constant_time_equals(stored, token_digest(client_secret)) or row is None or not row.is_enabled:
            raise invalid_client()
        return await self._issue(row.id, row.tenant_id, row.generation)

    async def refresh(self, refresh_token: str) -> IssuedTicket:
        record = await self._spend_refresh_token(refresh_token)
        if record is None:
            raise invalid_refresh_token()
        state = await self.states.get(record["app"])
        if state is None or not state.is_enabled or state.generation != record["gen"]:
            raise invalid_refresh_token()
        return await self._issue(record["app"], state.tenant_id, state.generation)

    async def revoke(self, refresh_token: str) -> None:
        """End a ticket by its refresh token; unknown tokens are ignored, as RFC 7009 does."""
        await self._spend_refresh_token(refresh_token)

    async def _spend_refresh_token(self, refresh_token: str) -> dict[str, Any] | None:
        """The refresh token's record, taken away (GETDEL) with its access token: a refresh token works once."""
        application_id = application_in(refresh_token, REFRESH_PREFIX)
        raw = await self.redis.getdel(app_refresh_token_key(application_id, token_digest(refresh_token)))
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        access_digest = record["at"]
        await self.redis.delete(app_token_key(application_id, access_digest))
        self._recent_tokens.drop(lambda digest, _: digest == access_digest)
        return record

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
        found = await self._token_with_state(access_token, digest)
        if not found:
            raise invalid_app_token()
        record = json.loads(found[0])
        state = await self.states.resolve(record["app"], found[1] if len(found) > 1 else None)
        if state is None or not state.is_enabled or state.generation != record["gen"]:
            raise invalid_app_token()
        principal = AppPrincipal(record["app"], state.tenant_id, state.client_id, state.behaviors)
        self._recent_tokens.put(digest, principal)
        return principal

    async def _token_with_state(self, access_token: str, digest: str) -> list[str] | None:
        """The token's record and, when cached, its application's state: in one round trip, but for a token
        issued before tokens named their application (its record names it)."""
        application_id = application_in(access_token, ACCESS_PREFIX)
        if application_id is None:
            raw = await self.redis.get(app_token_key(None, digest))
            if raw is None:
                return None
            state = await self.redis.get(app_state_key(json.loads(raw)["app"]))
            return [text(raw)] if state is None else [text(raw), text(state)]
        keys = [app_token_key(application_id, digest), app_state_key(application_id)]
        found = await self._token_and_state(keys=keys, args=[application_id])
        return list(found) if found else None

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
        access, refresh = (
            application_token(ACCESS_PREFIX, application_id),
            application_token(REFRESH_PREFIX, application_id),
        )
        access_digest = token_digest(access)
        access_record = json.dumps({"app": application_id, "tenant": tenant_id, "gen": generation})
        refresh_record = json.dumps({"app": application_id, "gen": generation, "at": access_digest})
        keys = [
            app_token_key(application_id, access_digest),
            app_refresh_token_key(application_id, token_digest(refresh)),
        ]
        await self._issue_pair(keys=keys, args=[access_record, refresh_record, self.access_ttl, self.refresh_ttl])
        return IssuedTicket(
            access, now + timedelta(seconds=self.access_ttl), refresh, now + timedelta(seconds=self.refresh_ttl)
        )
