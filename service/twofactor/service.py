"""Second factors: deciding when one is needed, checking it, and managing a customer's factors."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import segno

from service import audit
from service.accounts.records import LoginCandidate
from service.audit import Actor
from service.errors import Conflict, ErrorCode, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from service.platform.crypto import SecretBox
from service.platform.db import Database
from service.platform.mail import Mailer
from service.tenants.settings import TenantSettings, TwoFactorMode
from service.tenants.transactions import tenant_transaction
from service.twofactor import repository as repo
from service.twofactor import totp
from service.twofactor.challenges import MAX_CODE_SENDS, Challenges, code_matches, new_code
from service.twofactor.records import Enrolment, TrustedDevice

RECOVERY_CODE_COUNT = 10


def invalid_code() -> Unauthenticated:
    return Unauthenticated("The code is wrong or expired.", code=ErrorCode.INVALID_2FA_CODE)


def fingerprint_hash(tenant_id: int, account_id: int, fingerprint: str) -> str:
    return hashlib.sha256(f"{tenant_id}:{account_id}:{fingerprint}".encode()).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class TwoFactor:
    db: Database
    challenges: Challenges
    mailer: Mailer
    box: SecretBox
    issuer_name: str = "Gatehouse"

    # --- when a second factor is needed -------------------------------------------------------------

    async def required(
        self,
        settings: TenantSettings,
        tenant_id: int,
        candidate: LoginCandidate,
        fingerprint: str | None,
        region: str | None,
    ) -> tuple[bool, bool]:
        """(second factor needed, the account has an authenticator app)."""
        has_app = candidate.has_authenticator
        mode = settings.two_factor.mode
        if has_app or mode is TwoFactorMode.ALWAYS:
            return True, has_app
        if mode is TwoFactorMode.OFF:
            return False, has_app
        account_id = candidate.account.id
        new_device = not fingerprint or not await repo.is_trusted_device(
            self.db, tenant_id, account_id, fingerprint_hash(tenant_id, account_id, fingerprint)
        )
        new_region = bool(region) and bool(candidate.last_region) and region != candidate.last_region
        if mode is TwoFactorMode.NEW_DEVICE:
            return new_device, has_app
        if mode is TwoFactorMode.NEW_REGION:
            return new_region, has_app
        return new_device or new_region, has_app

    # --- the second step ------------------------------------------------------------------------------

    async def send_code(self, digest: str, record: dict[str, Any], settings: TenantSettings) -> None:
        """Mail a fresh code for the pending login `record` (as read under `digest`)."""
        if record.get("totp_only"):
            raise InvalidInput("Use your authenticator app or a recovery code.", code=ErrorCode.EMAIL_CODE_NOT_ALLOWED)
        if record.get("sends", 0) >= MAX_CODE_SENDS:
            raise TooManyRequests(
                "Too many codes were sent for this login; log in again.", headers={"Retry-After": "60"}
            )
        code = new_code()
        ttl = settings.two_factor.code_ttl_seconds
        await self.challenges.set_pending_code(digest, record, code, ttl)
        self.mailer.send_later(
            record["email"],
            "two_factor_code",
            code=code,
            minutes=str(ttl // 60),
            first_name=record.get("first_name") or "there",
        )

    async def check(self, digest: str, code: str) -> tuple[dict[str, Any], str]:
        """The pending login and how it was proven ("email", "totp", "recovery"), or 401.

        One attempt is spent before anything is compared; the last wrong one ends the login.
        """
        record = await self.challenges.spend_pending_attempt(digest)
        if record is None:
            raise invalid_code()
        method = await self._matching_factor(record, code.strip())
        if method is None:
            if record["attempts"] <= 1:
                await self.challenges.end_pending(digest, record)
            raise invalid_code()
        if not await self.challenges.claim_pending(digest, record):
            raise invalid_code()  # a parallel request with the right code won
        return record, method

    async def _matching_factor(self, record: dict[str, Any], code: str) -> str | None:
        if (
            not record.get("totp_only")
            and record.get("code_exp", 0) >= time.time()
            and code_matches(record.get("code"), code)
        ):
            return "email"
        if record.get("totp") and await self.spend_totp(record["tid"], record["acct"], code, confirm=False):
            return "totp"
        if record.get("totp") and await repo.spend_recovery_code(
            self.db, record["tid"], record["acct"], totp.hash_recovery_code(record["acct"], code)
        ):
            return "recovery"
        return None

    async def spend_totp(self, tenant_id: int, account_id: int, code: str, *, confirm: bool) -> bool:
        authenticator = await repo.get_authenticator(self.db, tenant_id, account_id)
        if authenticator is None:
            return False
        secret = self.box.open(authenticator.secret, f"totp:{tenant_id}:{account_id}")
        step = totp.matching_step(secret, code, authenticator.last_used_step)
        return step is not None and await repo.spend_step(self.db, tenant_id, account_id, step, confirm)

    async def remember(self, actor: Actor, record: dict[str, Any], method: str, trusted_days: int) -> None:
        async with tenant_transaction(self.db, record["tid"]) as conn:
            await repo.record_second_factor(conn, record["tid"], record["acct"])
            if record.get("fp") and trusted_days > 0:
                await repo.trust_device(
                    conn,
                    record["tid"],
                    record["acct"],
                    fingerprint_hash(record["tid"], record["acct"], record["fp"]),
                    record.get("region"),
                    trusted_days,
                )
            await audit.record(
                conn, actor, record["tid"], "2fa.succeeded", "customer_account", record["acct"], {"method": method}
            )

    # --- authenticator apps -------------------------------------------------------------------------

    async def enroll(self, actor: Actor, tenant_id: int, account_id: int, account_name: str) -> Enrolment:
        secret = totp.new_secret()
        async with tenant_transaction(self.db, tenant_id) as conn:
            sealed = self.box.seal(secret, f"totp:{tenant_id}:{account_id}")
            if not await repo.put_unconfirmed_authenticator(conn, tenant_id, account_id, sealed):
                raise Conflict(
                    "An authenticator app is already enrolled; disable it first.", code=ErrorCode.AUTHENTICATOR_EXISTS
                )
            await audit.record(conn, actor, tenant_id, "2fa.enrolment_started", "customer_account", account_id)
        uri = totp.provisioning_uri(secret, account_name, self.issuer_name)
        return Enrolment(secret=secret, otpauth_uri=uri, qr_code_png=segno.make(uri, error="m").png_data_uri(scale=4))

    async def confirm(self, actor: Actor, tenant_id: int, account_id: int, code: str) -> list[str]:
        authenticator = await repo.get_authenticator(self.db, tenant_id, account_id)
        if authenticator is None or authenticator.confirmed_at is not None:
            raise NotFound("No enrolment is waiting for confirmation.", code=ErrorCode.NO_PENDING_ENROLMENT)
        if not await self.spend_totp(tenant_id, account_id, code, confirm=True):
            async with self.db.acquire() as conn:
                await audit.record(conn, actor, tenant_id, "2fa.enrolment_failed", "customer_account", account_id)
            raise invalid_code()
        return await self._new_recovery_codes(actor, tenant_id, account_id, "2fa.enrolled")

    async def _new_recovery_codes(self, actor: Actor, tenant_id: int, account_id: int, action: str) -> list[str]:
        """Fresh recovery codes, audited as `action` in their transaction (an enrolment is complete with them)."""
        codes = [totp.new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        async with tenant_transaction(self.db, tenant_id) as conn:
            await repo.replace_recovery_codes(
                conn, tenant_id, account_id, [totp.hash_recovery_code(account_id, c) for c in codes]
            )
            await audit.record(conn, actor, tenant_id, action, "customer_account", account_id)
        return codes

    async def regenerate_recovery_codes(self, actor: Actor, tenant_id: int, account_id: int) -> list[str]:
        authenticator = await repo.get_authenticator(self.db, tenant_id, account_id)
        if authenticator is None or authenticator.confirmed_at is None:
            raise NotFound("No authenticator app is enrolled.", code=ErrorCode.NO_AUTHENTICATOR)
        return await self._new_recovery_codes(actor, tenant_id, account_id, "2fa.recovery_codes_regenerated")

    async def disable(self, actor: Actor, tenant_id: int, account_id: int) -> None:
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await repo.delete_authenticator(conn, tenant_id, account_id):
                raise NotFound("No authenticator app is enrolled.", code=ErrorCode.NO_AUTHENTICATOR)
            await audit.record(conn, actor, tenant_id, "2fa.disabled", "customer_account", account_id)

    # --- trusted devices ------------------------------------------------------------------------------

    async def devices(self, tenant_id: int, account_id: int) -> list[TrustedDevice]:
        return await repo.list_trusted_devices(self.db, tenant_id, account_id)

    async def forget_device(self, actor: Actor, tenant_id: int, account_id: int, device_id: int) -> None:
        async with tenant_transaction(self.db, tenant_id) as conn:
            if not await repo.forget_device(conn, tenant_id, account_id, device_id):
                raise NotFound("Device not found.", code=ErrorCode.DEVICE_NOT_FOUND)
            await audit.record(
                conn, actor, tenant_id, "2fa.device_forgotten", "customer_account", account_id, {"deviceId": device_id}
            )
