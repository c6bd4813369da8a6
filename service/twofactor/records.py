"""A customer's second factors as the capability hands them out."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Authenticator(msgspec.Struct, frozen=True, kw_only=True):
    secret: str  # sealed at rest; opened only to check a code
    confirmed_at: datetime | None
    last_used_step: int  # codes at or before this step are spent


class Enrolment(msgspec.Struct, frozen=True, kw_only=True):
    """A new authenticator app's secret, shown this once, as text, otpauth URI and QR code."""

    secret: str
    otpauth_uri: str
    qr_code_png: str  # data: URI of a PNG image


class TrustedDevice(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    region: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class PendingLogin(msgspec.Struct, frozen=True, kw_only=True):
    """A login between its password and its second factor, known by its token's digest."""

    digest: str
    tenant_id: int
