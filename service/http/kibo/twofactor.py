"""A customer's own second factors: authenticator app, recovery codes, trusted devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import JSONBody

from service.accounts.passwords import AccountPasswords
from service.http.common import Id, Injected
from service.http.contract import CUSTOMER_SECURITY, answers
from service.http.kibo.accounts import KiboController
from service.http.kibo.auth import CUSTOMER_REQUIRED, CUSTOMER_SCOPE, scope_of, shopper_actor, shopper_of
from service.http.kibo.models import AuthenticatorConfirmation, PasswordConfirmation
from service.twofactor.service import TwoFactor


class AuthenticatorEnrolment(msgspec.Struct, rename="camel", kw_only=True):
    secret: str
    otpauth_uri: str
    qr_code_png: str  # data: URI of a PNG image


class RecoveryCodes(msgspec.Struct, rename="camel", kw_only=True):
    recovery_codes: list[str]  # shown this once; stored only as hashes


class TrustedDevice(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    region: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class CustomerFactorsController(KiboController):
    path = "/api/commerce/customer/accounts/current"
    tags = ["Customer second factors"]
    security = CUSTOMER_SECURITY
    opt = {CUSTOMER_REQUIRED: True}

    @post("/authenticator", status_code=201, summary="Start enrolling an authenticator app (TOTP, RFC 6238)")
    async def enroll_authenticator(
        self, request: Request[Any, Any, Any], twofactor: Injected[TwoFactor]
    ) -> AuthenticatorEnrolment:
        shopper = shopper_of(request)
        enrolment = await twofactor.enroll(
            shopper_actor(request, shopper), shopper.tenant_id, shopper.account_id, shopper.session.login_name or ""
        )
        return AuthenticatorEnrolment(
            secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_code_png=enrolment.qr_code_png
        )

    @post(
        "/authenticator/confirm",
        status_code=200,
        summary="Confirm the app with a code; returns ten recovery codes once",
        responses=answers(404),
    )
    async def confirm_authenticator(
        self,
        request: Request[Any, Any, Any],
        twofactor: Injected[TwoFactor],
        data: JSONBody[AuthenticatorConfirmation],
    ) -> RecoveryCodes:
        shopper = shopper_of(request)
        codes = await twofactor.confirm(
            shopper_actor(request, shopper), shopper.tenant_id, shopper.account_id, data.code
        )
        return RecoveryCodes(recovery_codes=codes)

    @post(
        "/authenticator/disable",
        status_code=204,
        summary="Remove the authenticator app (password required)",
        responses=answers(404),
        opt={CUSTOMER_SCOPE: True},
    )
    async def disable_authenticator(
        self,
        request: Request[Any, Any, Any],
        twofactor: Injected[TwoFactor],
        account_passwords: Injected[AccountPasswords],
        data: JSONBody[PasswordConfirmation],
    ) -> None:
        customer = scope_of(request)
        shopper = shopper_of(request)
        await account_passwords.verify_current(customer, shopper.account_id, data.password, "password")
        await twofactor.disable(shopper_actor(request, shopper), shopper.tenant_id, shopper.account_id)

    @post(
        "/recovery-codes",
        status_code=200,
        summary="Replace the recovery codes (password required)",
        responses=answers(404),
        opt={CUSTOMER_SCOPE: True},
    )
    async def regenerate_recovery_codes(
        self,
        request: Request[Any, Any, Any],
        twofactor: Injected[TwoFactor],
        account_passwords: Injected[AccountPasswords],
        data: JSONBody[PasswordConfirmation],
    ) -> RecoveryCodes:
        customer = scope_of(request)
        shopper = shopper_of(request)
        await account_passwords.verify_current(customer, shopper.account_id, data.password, "password")
        codes = await twofactor.regenerate_recovery_codes(
            shopper_actor(request, shopper), shopper.tenant_id, shopper.account_id
        )
        return RecoveryCodes(recovery_codes=codes)

    @get("/trusted-devices", summary="Devices that skip the second factor until they expire")
    async def list_trusted_devices(
        self, request: Request[Any, Any, Any], twofactor: Injected[TwoFactor]
    ) -> list[TrustedDevice]:
        shopper = shopper_of(request)
        devices = await twofactor.devices(shopper.tenant_id, shopper.account_id)
        return [TrustedDevice(**msgspec.structs.asdict(device)) for device in devices]

    @delete("/trusted-devices/{device_id:int}", summary="Forget a device: its next login asks for a second factor")
    async def forget_trusted_device(
        self, request: Request[Any, Any, Any], twofactor: Injected[TwoFactor], device_id: Id
    ) -> None:
        shopper = shopper_of(request)
        await twofactor.forget_device(shopper_actor(request, shopper), shopper.tenant_id, shopper.account_id, device_id)
