"""Customer logins with a password, Create-Login and Add-Account-And-Login; refresh, logout, and who a token is.

Every failed login — unknown user, wrong password, no login, locked or inactive account — gets
the same answer after the same Argon2 work, so neither status, body nor timing tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from service import audit
from service.accounts import repository as accounts_repo
from service.accounts.creation import NewAccount
from service.accounts.fields import normalize_user_name
from service.accounts.password_policy import argon2_parameters, normalize_password
from service.accounts.passwords import AccountPasswords
from service.accounts.records import LoginCandidate
from service.accounts.service import Accounts
from service.audit import Actor
from service.errors import ErrorCode, FieldError, InvalidInput, TooManyRequests, Unauthenticated
from service.limits.lockout import Lockout
from service.platform.config import Settings
from service.platform.db import Database
from service.platform.passwords import Argon2Parameters, Passwords
from service.sessions.durations import Requested, resolve_durations
from service.sessions.issuer import CustomerTicket, SessionIssuer
from service.sessions.revocations import SessionRevocations
from service.sessions.rotation import Outcome, RefreshRotation
from service.sessions.store import Sessions
from service.tenants.scope import CustomerScope
from service.tenants.transactions import tenant_transaction
from service.twofactor.service import TwoFactor


def login_failed() -> Unauthenticated:
    return Unauthenticated("The user name or password is wrong.", code=ErrorCode.INVALID_CREDENTIALS)


def invalid_refresh_token() -> Unauthenticated:
    return Unauthenticated("The refresh token is unknown, used or expired.", code=ErrorCode.INVALID_REFRESH_TOKEN)


@dataclass(frozen=True, slots=True)
class Device:
    """Where a login comes from, as the caller describes it (for trusted devices and new-region checks)."""

    fingerprint: str | None = None
    region: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Logins:
    settings: Settings
    db: Database
    passwords: Passwords
    account_passwords: AccountPasswords
    accounts: Accounts
    sessions: Sessions
    revocations: SessionRevocations
    rotation: RefreshRotation
    lockout: Lockout
    twofactor: TwoFactor
    issuer: SessionIssuer

    async def login(
        self,
        scope: CustomerScope,
        actor: Actor,
        login_name: str | None,
        account_id: int | None,
        password: str | None,
        device: Device,
        requested: Requested,
    ) -> CustomerTicket:
        settings = scope.settings
        durations = resolve_durations(settings, self.settings.caps, scope.app, *requested)
        wait = await self.lockout.address_blocked_for(scope.tenant_id, actor.client_address, settings.throttle)
        if wait:
            raise TooManyRequests(
                "Too many failed logins from this address. Try again later.", headers={"Retry-After": str(wait)}
            )
        candidate = None
        if login_name or account_id is not None:
            candidate = await accounts_repo.find_for_login(
                self.db,
                scope.tenant_id,
                scope.customer_set_id,
                login_name=normalize_user_name(login_name) if login_name else None,
                account_id=account_id,
            )
        account = await self._verified(scope, actor, candidate, password or "")
        template = self.issuer.template(scope, account.account, durations, device.fingerprint, device.region, ["pwd"])
        needed, has_app = await self.twofactor.required(
            settings, scope.tenant_id, account, device.fingerprint, device.region
        )
        if needed:
            await self.lockout.succeeded(scope.tenant_id, account.account.id)
            return await self.issuer.pending(scope, actor, template, account.account, totp=has_app)
        cleared = self.lockout.cleared_by_login(scope.tenant_id, account.account.id)
        return await self.issuer.finish_login(actor, template, "login.succeeded", (cleared,))

    async def _verified(
        self, scope: CustomerScope, actor: Actor, candidate: LoginCandidate | None, typed: str
    ) -> LoginCandidate:
        """The candidate whose password this is, or the one failure answer. The attempt takes its lockout slot
        before the password is checked, so parallel guesses cannot get past the limit; a locked account is still
        "verified" against a decoy, for equal timing; `login` clears the count of a success. `typed` is the password
        as sent; imported hashes of other shops were made from it, Gatehouse's own from its normalised form."""
        lockout = scope.settings.lockout
        attempt = (
            await self.lockout.reserve_attempt(scope.tenant_id, candidate.account.id, lockout) if candidate else None
        )
        stored_hash = candidate.password_hash if candidate is not None and attempt is not None else None
        parameters = argon2_parameters(scope.settings.password)
        password = normalize_password(typed)
        valid = await self.passwords.verify(stored_hash, password, parameters, as_typed=typed)
        if (
            not valid
            or candidate is None
            or attempt is None
            or candidate.account.is_locked
            or not candidate.account.is_active
        ):
            reason = (
                "unknown_user"
                if candidate is None
                else "locked"
                if attempt is None or candidate.account.is_locked
                else "wrong_password"
                if not valid
                else "inactive"
            )
            await self._login_failed(scope, actor, candidate, attempt if not valid else None, reason)
            raise login_failed()
        if stored_hash is not None and self.passwords.needs_rehash(stored_hash, parameters):
            await self._rehash(scope.tenant_id, candidate.account.id, stored_hash, password, parameters)
        return candidate

    async def _rehash(
        self, tenant_id: int, account_id: int, stored_hash: str, password: str, parameters: Argon2Parameters
    ) -> None:
        """The tenant's Argon2id in place of a hash imported from another shop, or of one made before the tenant
        changed its cost. Only if the stored hash is still the one just verified: a parallel first login has then
        already upgraded it (both logins succeed, one hash stays), and a password set meanwhile is never undone."""
        new_hash = await self.passwords.hash(password, parameters)
        await accounts_repo.replace_password_hash(self.db, tenant_id, account_id, stored_hash, new_hash)

    async def _login_failed(
        self, scope: CustomerScope, actor: Actor, candidate: LoginCandidate | None, attempt: int | None, reason: str
    ) -> None:
        """Count the failure (per address, and per account when a password was really checked), maybe lock."""
        settings = scope.settings
        await self.lockout.address_failed(scope.tenant_id, actor.client_address, settings.throttle)
        target = candidate.account.id if candidate is not None else None
        locked_now = (
            target is not None
            and attempt is not None
            and await self.lockout.failed(scope.tenant_id, target, attempt, settings.lockout)
        )
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            # The reason is for admins reading the audit trail; the caller always gets the same answer.
            await audit.record(
                conn,
                actor,
                scope.tenant_id,
                "login.failed",
                "customer_account",
                target or "unknown",
                {"reason": reason},
            )
            if locked_now and target is not None:
                await accounts_repo.mark_locked_out(conn, scope.tenant_id, target)
                await audit.record(
                    conn,
                    actor,
                    scope.tenant_id,
                    "login.locked_out",
                    "customer_account",
                    target,
                    {"minutes": settings.lockout.lock_minutes},
                )

    async def create_login(
        self,
        scope: CustomerScope,
        actor: Actor,
        account_id: int,
        email: str | None,
        user_name: str | None,
        password: str | None,
        device: Device,
        requested: Requested,
    ) -> CustomerTicket:
        """Give an existing account its login, and log it in."""
        durations = resolve_durations(scope.settings, self.settings.caps, scope.app, *requested)
        password_hash = await self.account_passwords.hash_new(password, scope.settings)
        account = await self.accounts.add_login(scope, actor, account_id, email, user_name, password_hash)
        return await self.issuer.start(
            self.issuer.template(scope, account, durations, device.fingerprint, device.region, ["pwd"])
        )

    async def add_account_and_login(
        self,
        scope: CustomerScope,
        actor: Actor,
        new: NewAccount,
        password: str | None,
        device: Device,
        requested: Requested,
    ) -> CustomerTicket:
        if new.changes.is_active is False:
            raise InvalidInput(
                "account.isActive is false: an inactive account cannot be logged in.",
                code=ErrorCode.ACCOUNT_INACTIVE,
                field_errors=(FieldError("account.isActive", "an inactive account cannot be logged in"),),
            )
        durations = resolve_durations(scope.settings, self.settings.caps, scope.app, *requested)
        account = await self.accounts.create_with_login(scope, actor, new, password)
        return await self.issuer.start(
            self.issuer.template(scope, account, durations, device.fingerprint, device.region, ["pwd"])
        )

    async def refresh(self, app_tenant_id: int, refresh_token: str, account_id: int | None = None) -> CustomerTicket:
        """One Redis round trip: rotation hands back the session, and the ticket is built from it. A session
        serves one account: `account_id`, when given, must be its account, which one more round trip checks
        before the token is spent."""
        if account_id is not None:
            await self._require_account_of(app_tenant_id, refresh_token, account_id)
        result = await self.rotation.rotate(refresh_token, app_tenant_id)
        if result.outcome is Outcome.REUSE and result.session is not None:
            await self.revocations.reused(result.session)
        if result.session is None or result.successor is None:
            raise invalid_refresh_token()
        return await self.issuer.ticket(result.session, result.successor)

    async def _require_account_of(self, app_tenant_id: int, refresh_token: str, account_id: int) -> None:
        session = await self.sessions.session_for_refresh(refresh_token)
        # An unknown token, or another tenant's, is left to the rotation's one answer for every invalid token.
        if session is not None and session.tenant_id == app_tenant_id and session.account_id != account_id:
            raise InvalidInput(
                "accountId is not the account of this refresh token's session.",
                field_errors=(FieldError("accountId", "is not the account of this session"),),
            )

    async def logout(self, actor: Actor, app_tenant_id: int, refresh_token: str) -> None:
        session = await self.sessions.session_for_refresh(refresh_token)
        if session is not None and session.tenant_id == app_tenant_id:
            await self.revocations.end(actor, session, "logout")
