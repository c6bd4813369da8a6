"""Customer logins and their sessions: the auth tickets of Kibo's storefront API.

Every failed login — unknown user, wrong password, no login, locked or inactive account — gets
the same answer after the same Argon2 work, so neither status, body nor timing tells them apart.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import asyncpg
from redis.asyncio import Redis

from service import audit
from service.accounts import repository as accounts_repo
from service.accounts.models import CustomerAccountAndAuthInfo, CustomerLoginInfo, CustomerUserAuthInfo
from service.accounts.password_policy import argon2_parameters, check_password, normalize_password
from service.accounts.service import Accounts, account_body, account_not_found, normalize_user_name
from service.audit import Actor
from service.auth.durations import Durations, resolve_durations
from service.auth.sessions import IssuedTokens, Sessions, now_ms, open_with, seal_for
from service.config import Settings
from service.errors import Conflict, InvalidInput, Unauthenticated
from service.kibo import kibo_datetime
from service.security import Passwords
from service.tenants.scope import CustomerScope
from service.tokens import jwt_tokens
from service.tokens.keys import KeyCache


def login_failed() -> Unauthenticated:
    return Unauthenticated("The user name or password is wrong.", code="INVALID_CREDENTIALS")


def invalid_refresh_token() -> Unauthenticated:
    return Unauthenticated("The refresh token is unknown, used or expired.", code="INVALID_REFRESH_TOKEN")


def iso_from_ms(ms: int) -> str | None:
    return kibo_datetime(datetime.fromtimestamp(ms / 1000, timezone.utc))


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    """A customer acting through one of their sessions."""

    session: dict[str, Any]
    tenant_id: int
    account_id: int
    session_id: str


@dataclass
class AuthTickets:
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis
    passwords: Passwords
    sessions: Sessions
    keys: KeyCache
    accounts: Accounts

    # --- logging in -----------------------------------------------------------------------------

    async def login(self, scope: CustomerScope, actor: Actor, info: CustomerUserAuthInfo,
                    requested: tuple[int | None, int | None]) -> dict[str, Any]:
        tenant_settings = scope.settings
        durations = resolve_durations(tenant_settings, self.settings.caps, scope.app, *requested)
        parameters = argon2_parameters(tenant_settings.password)
        row = None
        if info.username or info.account_id is not None:
            row = await accounts_repo.find_for_login(
                self.pool, scope.tenant_id, scope.customer_set_id,
                login_name=normalize_user_name(info.username) if info.username else None, account_id=info.account_id,
            )
        stored_hash = row["password_hash"] if row is not None else None
        password = normalize_password(info.password or "")
        # Verify even when there is nothing to verify against, so every failure costs the same time.
        valid = await self.passwords.verify(stored_hash, password, parameters)
        if not valid or row is None or row["is_locked"] or not row["is_active"]:
            async with self.pool.acquire() as conn:
                await audit.record(conn, actor, scope.tenant_id, "login.failed", "customer_account",
                                   row["id"] if row else "unknown")
            raise login_failed()
        rehash = await self.passwords.hash(password, parameters) if self.passwords.needs_rehash(stored_hash, parameters) else None
        async with self.pool.acquire() as conn, conn.transaction():
            await accounts_repo.record_login(conn, scope.tenant_id, row["id"], rehash)
            await audit.record(conn, actor, scope.tenant_id, "login.succeeded", "customer_account", row["id"])
        return await self._open_session(scope, account_body(row), durations, info.fingerprint, info.region, ["pwd"])

    async def create_login(self, scope: CustomerScope, actor: Actor, account_id: int, info: CustomerLoginInfo,
                           requested: tuple[int | None, int | None]) -> dict[str, Any]:
        """Give an existing account its login, and log it in."""
        tenant_settings = scope.settings
        durations = resolve_durations(tenant_settings, self.settings.caps, scope.app, *requested)
        password_hash = await self._hash(info.password, tenant_settings)
        async with self.pool.acquire() as conn, conn.transaction():
            current = await accounts_repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id)
            if current is None:
                raise account_not_found()
            if await accounts_repo.get_login(conn, scope.tenant_id, account_id) is not None:
                raise Conflict("This account already has a login.", code="LOGIN_EXISTS")
            await self.accounts.set_login_names(conn, scope, actor, current, info.email_address, info.username)
            await accounts_repo.insert_login(conn, scope.tenant_id, account_id, secrets.token_hex(16), password_hash)
            await audit.record(conn, actor, scope.tenant_id, "login.created", "customer_account", account_id)
            account = account_body(await accounts_repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id))
        return await self._open_session(scope, account, durations, info.fingerprint, info.region, ["pwd"])

    async def add_account_and_login(self, scope: CustomerScope, actor: Actor, data: CustomerAccountAndAuthInfo,
                                    requested: tuple[int | None, int | None]) -> dict[str, Any]:
        tenant_settings = scope.settings
        durations = resolve_durations(tenant_settings, self.settings.caps, scope.app, *requested)
        account = await self.accounts.create_with_login(scope, actor, data)
        return await self._open_session(scope, account, durations, data.fingerprint, data.region, ["pwd"])

    async def _hash(self, password: str | None, tenant_settings: Any) -> str:
        if not password:
            raise InvalidInput("password is required.", code="PASSWORD_REQUIRED")
        normalized = check_password(password, tenant_settings.password)
        return await self.passwords.hash(normalized, argon2_parameters(tenant_settings.password))

    async def _open_session(self, scope: CustomerScope, account: dict[str, Any], durations: Durations,
                            fingerprint: str | None, region: str | None, amr: list[str]) -> dict[str, Any]:
        grace = scope.settings.refresh_reuse_grace_seconds
        session = {
            "sid": self.sessions.new_session_id(), "tid": scope.tenant_id, "acct": account["id"],
            "uid": account["userId"], "cid": scope.app.client_id, "app": scope.app.application_id,
            "csid": scope.customer_set_id, "cs": scope.customer_set_code, "fp": fingerprint, "region": region,
            "idle": durations.idle_seconds, "abs": now_ms() + durations.absolute_seconds * 1000,
            "access": durations.access_seconds, "amr": amr, "grace": grace,
            "user": account["emailAddress"] or account["userName"], "account": account,
        }
        tokens = await self.sessions.create(session, durations.access_seconds)
        session["atv"] = 1
        return await self._ticket(session, tokens)

    async def _ticket(self, session: dict[str, Any], tokens: IssuedTokens) -> dict[str, Any]:
        issuer = self.settings.issuer_for(session["tid"])
        claims = jwt_tokens.AccessClaims(
            issuer=issuer, subject=session["uid"], audience=jwt_tokens.audience_for(issuer), tenant_id=session["tid"],
            account_id=session["acct"], session_id=session["sid"], jti=tokens.jti, client_id=session["cid"],
            customer_set=session["cs"], amr=session["amr"], access_version=session["atv"], username=session["user"],
            issued_at=now_ms() // 1000,
            expires_at=tokens.access_expires_ms // 1000,
        )
        return {
            "accessToken": tokens.access_token,
            "accessTokenExpiration": iso_from_ms(tokens.access_expires_ms),
            "jwtAccessToken": await jwt_tokens.issue(self.keys, claims),
            "refreshToken": tokens.refresh_token,
            "refreshTokenExpiration": iso_from_ms(tokens.refresh_expires_ms),
            "userId": session["uid"],
            "requires2FA": False,
            "customerAccount": session["account"],
        }

    # --- refresh and logout ---------------------------------------------------------------------

    async def refresh(self, app_tenant_id: int, refresh_token: str) -> dict[str, Any]:
        session = await self.sessions.session_for_refresh(refresh_token)
        if session is None or session["tid"] != app_tenant_id:
            raise invalid_refresh_token()
        successor, access_record, access_ms = self.sessions.prepare_successor(session)
        ticket = await self._ticket(session, successor)
        blob = seal_for(refresh_token, ticket)
        result = await self.sessions.rotate(
            refresh_token, session, successor, access_record, access_ms, blob, session.get("grace", 10)
        )
        if result.outcome == "rotated":
            return ticket
        if result.outcome == "grace" and result.blob:
            return open_with(refresh_token, result.blob)
        raise invalid_refresh_token()

    async def logout(self, app_tenant_id: int, refresh_token: str) -> None:
        session = await self.sessions.session_for_refresh(refresh_token)
        if session is not None and session["tid"] == app_tenant_id:
            await self.sessions.end(session)

    # --- who is calling -------------------------------------------------------------------------

    async def customer_for(self, token: str) -> CustomerPrincipal | None:
        """The customer behind an opaque or JWT access token, if it is active."""
        if jwt_tokens.looks_like_jwt(token):
            claims = await jwt_tokens.verify(self.keys, token, self.settings.issuer_for)
            if claims is None:
                return None
            session = await self.sessions.session_if_current(claims["sid"], claims["atv"])
        else:
            found = await self.sessions.validate_access(token)
            session = found[1] if found else None
        if session is None:
            return None
        return CustomerPrincipal(session, session["tid"], session["acct"], session["sid"])
