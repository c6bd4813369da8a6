"""The second step of a pending login, and logins by a mailed one-time code.

A pending login (password right, second factor outstanding) lives in Redis (`twofactor.challenges`)
with the session it will open; finishing it opens exactly that session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from service import audit
from service.accounts import repository as accounts_repo
from service.accounts.fields import normalize_email
from service.audit import Actor
from service.errors import ErrorCode, Unauthenticated
from service.platform.background import Background
from service.platform.config import Settings
from service.platform.db import Database
from service.platform.keyspace import email_code_key
from service.platform.mail import Mailer
from service.sessions.durations import resolve_durations
from service.sessions.issuer import CustomerTicket, SessionIssuer
from service.sessions.logins import Device
from service.sessions.record import SessionRecord
from service.tenants.scope import CustomerScope
from service.tenants.service import Tenants
from service.twofactor.challenges import code_matches
from service.twofactor.service import TwoFactor


def _invalid_otp_code() -> Unauthenticated:
    return Unauthenticated("The code is wrong or expired.", code=ErrorCode.INVALID_OTP_CODE)


@dataclass(frozen=True, kw_only=True, slots=True)
class SecondSteps:
    settings: Settings
    db: Database
    tenants: Tenants
    twofactor: TwoFactor
    issuer: SessionIssuer
    mailer: Mailer
    background: Background

    async def send_two_factor_code(self, tenant_id: int, pending_digest: str) -> None:
        record = await self.twofactor.challenges.peek_pending(pending_digest)
        if record is None or record["tid"] != tenant_id:
            raise Unauthenticated(
                "The pending login is unknown or expired; log in again.", code=ErrorCode.INVALID_PENDING_LOGIN
            )
        settings = await self.tenants.get_settings(tenant_id)
        await self.twofactor.send_code(pending_digest, record, settings)

    async def complete_two_factor(
        self, tenant_id: int, actor: Actor, pending_token: str | None, user_id: str | None, code: str
    ) -> CustomerTicket:
        digest = await self.twofactor.challenges.pending_digest(pending_token, tenant_id, user_id)
        peeked = await self.twofactor.challenges.peek_pending(digest) if digest else None
        if digest is None or peeked is None or peeked["tid"] != tenant_id or (user_id and peeked["uid"] != user_id):
            raise Unauthenticated("The code is wrong or expired.", code=ErrorCode.INVALID_2FA_CODE)
        try:
            record, method = await self.twofactor.check(digest, code)
        except Unauthenticated:
            async with self.db.acquire() as conn:
                await audit.record(conn, actor, tenant_id, "2fa.failed", "customer_account", peeked["acct"])
            raise
        settings = await self.tenants.get_settings(tenant_id)
        await self.twofactor.remember(actor, record, method, settings.two_factor.trusted_device_days)
        session = _session_of(record)
        session = msgspec.structs.replace(session, amr=sorted({*session.amr, "otp", "mfa"}))
        return await self.issuer.finish_login(actor, session, "login.succeeded")

    async def request_email_login(self, scope: CustomerScope, actor: Actor, email: str) -> None:
        """Mail a sign-in code when the address has a usable login; the answer, and its timing, are the
        same either way: the lookup happens after the answer has gone."""
        self.background.spawn(self._send_email_login_code(scope, actor, normalize_email(email)), "email_login_code")

    async def _send_email_login_code(self, scope: CustomerScope, actor: Actor, email: str) -> None:
        candidate = await accounts_repo.find_for_login(
            self.db, scope.tenant_id, scope.customer_set_id, login_name=email, account_id=None
        )
        if candidate is None or candidate.password_hash is None:
            return
        account = candidate.account
        if account.is_locked or not account.is_active or normalize_email(account.email_address or "") != email:
            return
        two_factor = scope.settings.two_factor
        code = await self.twofactor.challenges.issue_email_code(
            email_code_key(scope.tenant_id, scope.customer_set_id, email),
            account.id,
            two_factor.code_ttl_seconds,
            two_factor.max_code_attempts,
        )
        if code is not None and account.email_address:
            self.mailer.send_later(
                account.email_address,
                "email_login_code",
                code=code,
                minutes=str(two_factor.code_ttl_seconds // 60),
                first_name=account.first_name or "there",
            )
            async with self.db.acquire() as conn:
                await audit.record(conn, actor, scope.tenant_id, "otp.sent", "customer_account", account.id)

    async def email_login(
        self, scope: CustomerScope, actor: Actor, email: str, code: str, device: Device
    ) -> CustomerTicket:
        key = email_code_key(scope.tenant_id, scope.customer_set_id, normalize_email(email))
        record = await self.twofactor.challenges.spend_email_code_attempt(key)
        if record is None or not code_matches(record["code"], code.strip()):
            if record is not None and record["attempts"] <= 1:
                await self.twofactor.challenges.claim_email_code(key)  # the last wrong guess ends it
            raise _invalid_otp_code()
        if not await self.twofactor.challenges.claim_email_code(key):
            raise _invalid_otp_code()
        candidate = await accounts_repo.find_for_login(
            self.db, scope.tenant_id, scope.customer_set_id, login_name=None, account_id=record["acct"]
        )
        if candidate is None or candidate.account.is_locked or not candidate.account.is_active:
            raise _invalid_otp_code()
        durations = resolve_durations(scope.settings, self.settings.caps, scope.app, None, None)
        template = self.issuer.template(scope, candidate.account, durations, device.fingerprint, device.region, ["otp"])
        _, has_app = await self.twofactor.required(
            scope.settings, scope.tenant_id, candidate, device.fingerprint, device.region
        )
        if has_app:  # the email code was the first factor; the authenticator app must be the second
            return await self.issuer.pending(scope, actor, template, candidate.account, totp=True, totp_only=True)
        return await self.issuer.finish_login(actor, template, "otp.succeeded")


def _session_of(pending: dict[str, Any]) -> SessionRecord:
    """The session a pending login carries; its own fields (attempts, code, ...) are left behind."""
    return msgspec.convert(pending, SessionRecord)
