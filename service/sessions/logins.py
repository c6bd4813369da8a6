"""Customer logins and their sessions: the auth tickets of Kibo's storefront API.

Every failed login — unknown user, wrong password, no login, locked or inactive account — gets
the same answer after the same Argon2 work, so neither status, body nor timing tells them apart.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg

from service import audit
from service.accounts import repository as accounts_repo
from service.http.kibo.models import CustomerAccountAndAuthInfo, CustomerLoginInfo, CustomerUserAuthInfo
from service.accounts.password_policy import argon2_parameters, check_password, normalize_password
from service.accounts.service import Accounts, account_body, account_not_found, normalize_email, normalize_user_name
from service.audit import Actor
from service.sessions.durations import Durations, resolve_durations
from service.sessions.store import IssuedTokens, Sessions, now_ms, pack_account, session_account
from service.platform.background import Background
from service.platform.config import Settings
from service.errors import Conflict, InvalidInput, TooManyRequests, Unauthenticated
from service.http.kibo.conventions import kibo_datetime_ms
from service.platform.db import Database
from service.platform.keyspace import email_code_key
from service.platform.mail import Mailer
from service.platform.crypto import Passwords
from service.tenants.scope import CustomerScope
from service.tenants.service import Tenants
from service.tokens import jwt_tokens
from service.tokens.keys import KeyCache
from service.twofactor.challenges import code_matches
from service.limits.lockout import Lockout
from service.twofactor.service import TwoFactor


def login_failed() -> Unauthenticated:
    return Unauthenticated("The user name or password is wrong.", code="INVALID_CREDENTIALS")


def invalid_refresh_token() -> Unauthenticated:
    return Unauthenticated("The refresh token is unknown, used or expired.", code="INVALID_REFRESH_TOKEN")


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    """A customer acting through one of their sessions."""

    session: dict[str, Any]
    tenant_id: int
    account_id: int
    session_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Logins:
    settings: Settings
    db: Database
    passwords: Passwords
    sessions: Sessions
    keys: KeyCache
    accounts: Accounts
    tenants: Tenants
    lockout: Lockout
    twofactor: TwoFactor
    mailer: Mailer
    background: Background

    # --- logging in -----------------------------------------------------------------------------

    async def login(self, scope: CustomerScope, actor: Actor, info: CustomerUserAuthInfo,
                    requested: tuple[int | None, int | None]) -> dict[str, Any]:
        settings = scope.settings
        durations = resolve_durations(settings, self.settings.caps, scope.app, *requested)
        wait = await self.lockout.address_blocked_for(scope.tenant_id, actor.client_address, settings.throttle)
        if wait:
            raise TooManyRequests("Too many failed logins from this address. Try again later.",
                                  headers={"Retry-After": str(wait)})
        row = None
        if info.username or info.account_id is not None:
            row = await accounts_repo.find_for_login(
                self.db, scope.tenant_id, scope.customer_set_id,
                login_name=normalize_user_name(info.username) if info.username else None, account_id=info.account_id,
            )
        # The attempt takes its lockout slot before the password is checked: parallel guesses cannot
        # get past the limit. A locked account is still "verified" against a decoy, for equal timing.
        attempt = await self.lockout.reserve_attempt(scope.tenant_id, row["id"], settings.lockout) if row else None
        stored_hash = row["password_hash"] if row is not None and attempt is not None else None
        parameters = argon2_parameters(settings.password)
        password = normalize_password(info.password or "")
        valid = await self.passwords.verify(stored_hash, password, parameters)
        if not valid or row is None or attempt is None or row["is_locked"] or not row["is_active"]:
            reason = ("unknown_user" if row is None else "locked" if attempt is None or row["is_locked"]
                      else "wrong_password" if not valid else "inactive")
            await self._login_failed(scope, actor, row, attempt if not valid else None, reason)
            raise login_failed()
        await self.lockout.succeeded(scope.tenant_id, row["id"])
        if self.passwords.needs_rehash(stored_hash, parameters):
            async with self.db.acquire() as conn:
                await accounts_repo.record_login(conn, scope.tenant_id, row["id"], await self.passwords.hash(password, parameters), None)
        template = self._session_template(scope, account_body(row), durations, info.fingerprint, info.region, ["pwd"])
        needed, has_app = await self.twofactor.required(settings, scope.tenant_id, row, info.fingerprint, info.region)
        if needed:
            return await self._pending_ticket(scope, actor, template, row, totp=has_app)
        return await self._finish_login(actor, template, "login.succeeded")

    async def _login_failed(self, scope: CustomerScope, actor: Actor, row: asyncpg.Record | None, attempt: int | None,
                            reason: str) -> None:
        """Count the failure (per address, and per account when a password was really checked), maybe lock."""
        settings = scope.settings
        await self.lockout.address_failed(scope.tenant_id, actor.client_address, settings.throttle)
        locked_now = row is not None and attempt is not None and await self.lockout.failed(
            scope.tenant_id, row["id"], attempt, settings.lockout
        )
        async with self.db.acquire() as conn, conn.transaction():
            # The reason is for admins reading the audit trail; the caller always gets the same answer.
            await audit.record(conn, actor, scope.tenant_id, "login.failed", "customer_account",
                               row["id"] if row else "unknown", {"reason": reason})
            if locked_now:
                await accounts_repo.mark_locked_out(conn, scope.tenant_id, row["id"])
                await audit.record(conn, actor, scope.tenant_id, "login.locked_out", "customer_account", row["id"],
                                   {"minutes": settings.lockout.lock_minutes})

    async def _finish_login(self, actor: Actor, session: dict[str, Any], action: str) -> dict[str, Any]:
        async with self.db.acquire() as conn, conn.transaction():
            await accounts_repo.record_login(conn, session["tid"], session["acct"], None, session["region"])
            await audit.record(conn, actor, session["tid"], action, "customer_account", session["acct"], {"amr": session["amr"]})
        return await self._start_session(session)

    async def _pending_ticket(self, scope: CustomerScope, actor: Actor, template: dict[str, Any], row: asyncpg.Record,
                              *, totp: bool, totp_only: bool = False) -> dict[str, Any]:
        """Password (or email code) accepted, second factor outstanding: a token for the second step only."""
        record = {
            **template, "attempts": scope.settings.two_factor.max_code_attempts, "totp": totp, "totp_only": totp_only,
            "email": row["email_address"], "first_name": row["first_name"],
        }
        token, seconds = await self.twofactor.challenges.open_pending(record)
        async with self.db.acquire() as conn:
            await audit.record(conn, actor, scope.tenant_id, "2fa.challenged", "customer_account", row["id"])
        return {
            "accessToken": token,
            "accessTokenExpiration": kibo_datetime_ms(now_ms() + seconds * 1000),
            "jwtAccessToken": None,
            "refreshToken": None,
            "refreshTokenExpiration": None,
            "userId": template["uid"],
            "requires2FA": True,
            "customerAccount": None,
        }

    # --- second steps ---------------------------------------------------------------------------

    async def send_two_factor_code(self, tenant_id: int, pending_digest: str) -> None:
        record = await self.twofactor.challenges.peek_pending(pending_digest)
        if record is None or record["tid"] != tenant_id:
            raise Unauthenticated("The pending login is unknown or expired; log in again.", code="INVALID_PENDING_LOGIN")
        settings = await self.tenants.get_settings(tenant_id)
        await self.twofactor.send_code(pending_digest, record, settings)

    async def complete_two_factor(self, tenant_id: int, actor: Actor, pending_token: str | None, user_id: str | None,
                                  code: str) -> dict[str, Any]:
        digest = await self.twofactor.challenges.pending_digest(pending_token, tenant_id, user_id)
        peeked = await self.twofactor.challenges.peek_pending(digest) if digest else None
        if digest is None or peeked is None or peeked["tid"] != tenant_id or (user_id and peeked["uid"] != user_id):
            raise Unauthenticated("The code is wrong or expired.", code="INVALID_2FA_CODE")
        try:
            record, method = await self.twofactor.check(digest, code)
        except Unauthenticated:
            async with self.db.acquire() as conn:
                await audit.record(conn, actor, tenant_id, "2fa.failed", "customer_account", peeked["acct"])
            raise
        settings = await self.tenants.get_settings(tenant_id)
        await self.twofactor.remember(actor, record, method, settings.two_factor.trusted_device_days)
        session = {k: record[k] for k in self._SESSION_FIELDS}
        session["amr"] = sorted({*record["amr"], "otp", "mfa"})
        return await self._finish_login(actor, session, "login.succeeded")

    async def request_email_login(self, scope: CustomerScope, actor: Actor, email: str) -> None:
        """Mail a sign-in code when the address has a usable login; the answer, and its timing, are the
        same either way: the lookup happens after the answer has gone."""
        self.background.spawn(self._send_email_login_code(scope, actor, normalize_email(email)), "email_login_code")

    async def _send_email_login_code(self, scope: CustomerScope, actor: Actor, email: str) -> None:
        row = await accounts_repo.find_for_login(self.db, scope.tenant_id, scope.customer_set_id,
                                                 login_name=email, account_id=None)
        if row is None or row["password_hash"] is None or row["is_locked"] or not row["is_active"] \
                or row["email_normalized"] != email:
            return
        two_factor = scope.settings.two_factor
        code = await self.twofactor.challenges.issue_email_code(
            email_code_key(scope.tenant_id, scope.customer_set_id, email), row["id"],
            two_factor.code_ttl_seconds, two_factor.max_code_attempts,
        )
        if code is not None:
            self.mailer.send_later(row["email_address"], "email_login_code", code=code,
                                   minutes=str(two_factor.code_ttl_seconds // 60), first_name=row["first_name"] or "there")
            async with self.db.acquire() as conn:
                await audit.record(conn, actor, scope.tenant_id, "otp.sent", "customer_account", row["id"])

    async def email_login(self, scope: CustomerScope, actor: Actor, email: str, code: str,
                          fingerprint: str | None, region: str | None) -> dict[str, Any]:
        key = email_code_key(scope.tenant_id, scope.customer_set_id, normalize_email(email))
        record = await self.twofactor.challenges.spend_email_code_attempt(key)
        if record is None or not code_matches(record["code"], code.strip()):
            if record is not None and record["attempts"] <= 1:
                await self.twofactor.challenges.claim_email_code(key)  # the last wrong guess ends it
            raise Unauthenticated("The code is wrong or expired.", code="INVALID_OTP_CODE")
        if not await self.twofactor.challenges.claim_email_code(key):
            raise Unauthenticated("The code is wrong or expired.", code="INVALID_OTP_CODE")
        row = await accounts_repo.find_for_login(self.db, scope.tenant_id, scope.customer_set_id, login_name=None,
                                                 account_id=record["acct"])
        if row is None or row["is_locked"] or not row["is_active"]:
            raise Unauthenticated("The code is wrong or expired.", code="INVALID_OTP_CODE")
        durations = resolve_durations(scope.settings, self.settings.caps, scope.app, None, None)
        template = self._session_template(scope, account_body(row), durations, fingerprint, region, ["otp"])
        _, has_app = await self.twofactor.required(scope.settings, scope.tenant_id, row, fingerprint, region)
        if has_app:  # the email code was the first factor; the authenticator app must be the second
            return await self._pending_ticket(scope, actor, template, row, totp=True, totp_only=True)
        return await self._finish_login(actor, template, "otp.succeeded")

    async def create_login(self, scope: CustomerScope, actor: Actor, account_id: int, info: CustomerLoginInfo,
                           requested: tuple[int | None, int | None]) -> dict[str, Any]:
        """Give an existing account its login, and log it in."""
        tenant_settings = scope.settings
        durations = resolve_durations(tenant_settings, self.settings.caps, scope.app, *requested)
        password_hash = await self._hash(info.password, tenant_settings)
        async with self.db.acquire() as conn, conn.transaction():
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

    _SESSION_FIELDS = ("sid", "tid", "acct", "uid", "cid", "app", "csid", "cs", "fp", "region", "idle", "abs",
                       "access", "amr", "grace", "user", "account")

    def _session_template(self, scope: CustomerScope, account: dict[str, Any], durations: Durations,
                          fingerprint: str | None, region: str | None, amr: list[str]) -> dict[str, Any]:
        return {
            "sid": self.sessions.new_session_id(), "tid": scope.tenant_id, "acct": account["id"],
            "uid": account["userId"], "cid": scope.app.client_id, "app": scope.app.application_id,
            "csid": scope.customer_set_id, "cs": scope.customer_set_code, "fp": fingerprint, "region": region,
            "idle": durations.idle_seconds, "abs": now_ms() + durations.absolute_seconds * 1000,
            "access": durations.access_seconds, "amr": amr, "grace": scope.settings.refresh_reuse_grace_seconds,
            "user": account["emailAddress"] or account["userName"], "account": pack_account(account),
        }

    async def _open_session(self, scope: CustomerScope, account: dict[str, Any], durations: Durations,
                            fingerprint: str | None, region: str | None, amr: list[str]) -> dict[str, Any]:
        return await self._start_session(self._session_template(scope, account, durations, fingerprint, region, amr))

    async def _start_session(self, session: dict[str, Any]) -> dict[str, Any]:
        tokens = await self.sessions.create(session, session["access"])
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
            "accessTokenExpiration": kibo_datetime_ms(tokens.access_expires_ms),
            "jwtAccessToken": await jwt_tokens.issue(self.keys, claims),
            "refreshToken": tokens.refresh_token,
            "refreshTokenExpiration": kibo_datetime_ms(tokens.refresh_expires_ms),
            "userId": session["uid"],
            "requires2FA": False,
            "customerAccount": session_account(session),
        }

    # --- refresh and logout ---------------------------------------------------------------------

    async def refresh(self, app_tenant_id: int, refresh_token: str) -> dict[str, Any]:
        """One Redis round trip: rotation hands back the session, and the ticket is built from it."""
        result = await self.sessions.rotate(refresh_token, app_tenant_id)
        if result.session is None or result.successor is None:
            raise invalid_refresh_token()
        return await self._ticket(result.session, result.successor)

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
