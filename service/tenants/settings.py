"""A tenant's security settings: token lifetimes, 2FA, lockout, throttling and password policy.

The defaults are what we would run ourselves: short access tokens, refresh tokens that die after
two idle weeks and after thirty days regardless, lockout after ten failures, passwords checked
against common ones. `validate_settings` checks the relations between fields and the platform caps
that a field-by-field schema cannot.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec

from service.errors import FieldError, InvalidInput
from service.platform.config import PlatformCaps

Minutes = Annotated[int, msgspec.Meta(ge=1, le=525_600, description="Minutes.")]
HostName = Annotated[
    str,
    msgspec.Meta(
        max_length=253,
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
        description="A lower-case host name without port.",
    ),
]


class _Struct(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    pass


class TwoFactorMode(StrEnum):
    OFF = "off"
    ALWAYS = "always"
    NEW_DEVICE = "newDevice"
    NEW_REGION = "newRegion"
    NEW_DEVICE_OR_REGION = "newDeviceOrRegion"


class SigningAlgorithm(StrEnum):
    ES256 = "ES256"
    RS256 = "RS256"
    EDDSA = "EdDSA"


class TwoFactorPolicy(_Struct):
    mode: TwoFactorMode = TwoFactorMode.OFF
    code_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=900)] = 180
    max_code_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    trusted_device_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 30


class LockoutPolicy(_Struct):
    max_failures: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15
    lock_minutes: Annotated[int, msgspec.Meta(ge=1, le=10080)] = 15


class ThrottlePolicy(_Struct):
    max_failures_per_address: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 100
    window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 5


class PasswordPolicy(_Struct):
    min_length: Annotated[int, msgspec.Meta(ge=8, le=128)] = 8
    required_character_classes: Annotated[int, msgspec.Meta(ge=1, le=4)] = 1
    reject_common: bool = True
    # Argon2id cost; OWASP's minimum is the floor. Raising it re-hashes each password at its next login.
    argon2_memory_kib: Annotated[int, msgspec.Meta(ge=19 * 1024, le=1024 * 1024)] = 19 * 1024
    argon2_iterations: Annotated[int, msgspec.Meta(ge=2, le=10)] = 2
    argon2_parallelism: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1


class TenantSettings(_Struct):
    access_token_minutes: Minutes = 15
    refresh_token_idle_minutes: Minutes = 14 * 24 * 60
    refresh_token_absolute_minutes: Minutes = 30 * 24 * 60
    max_requested_access_token_minutes: Minutes = 60
    max_requested_refresh_token_minutes: Minutes = 30 * 24 * 60
    refresh_reuse_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=120)] = 10
    # Algorithm of the next signing key; changing it takes effect at the next key rotation.
    signing_algorithm: SigningAlgorithm = SigningAlgorithm.ES256
    two_factor: TwoFactorPolicy = msgspec.field(default_factory=TwoFactorPolicy)
    lockout: LockoutPolicy = msgspec.field(default_factory=LockoutPolicy)
    throttle: ThrottlePolicy = msgspec.field(default_factory=ThrottlePolicy)
    password: PasswordPolicy = msgspec.field(default_factory=PasswordPolicy)
    # Host names whose Magento REST calls (/rest/...) belong to this tenant, e.g. "shop.example.com".
    host_names: Annotated[list[HostName], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)


def validate_settings(settings: TenantSettings, caps: PlatformCaps) -> TenantSettings:
    errors: list[FieldError] = []

    def at_most(field: str, value: int, limit: int, what: str) -> None:
        if value > limit:
            errors.append(FieldError(field, f"must be at most {limit} ({what})"))

    at_most("accessTokenMinutes", settings.access_token_minutes, caps.max_access_token_minutes, "platform cap")
    at_most(
        "maxRequestedAccessTokenMinutes",
        settings.max_requested_access_token_minutes,
        caps.max_access_token_minutes,
        "platform cap",
    )
    at_most(
        "refreshTokenAbsoluteMinutes",
        settings.refresh_token_absolute_minutes,
        caps.max_refresh_token_minutes,
        "platform cap",
    )
    at_most(
        "maxRequestedRefreshTokenMinutes",
        settings.max_requested_refresh_token_minutes,
        caps.max_refresh_token_minutes,
        "platform cap",
    )
    at_most(
        "refreshTokenIdleMinutes",
        settings.refresh_token_idle_minutes,
        settings.refresh_token_absolute_minutes,
        "refreshTokenAbsoluteMinutes",
    )
    if settings.access_token_minutes > settings.refresh_token_absolute_minutes:
        errors.append(FieldError("accessTokenMinutes", "must not exceed refreshTokenAbsoluteMinutes"))
    if len(set(settings.host_names)) != len(settings.host_names):
        errors.append(FieldError("hostNames", "must not list a host name twice"))
    if errors:
        raise InvalidInput("The tenant settings are inconsistent.", field_errors=tuple(errors))
    return settings


def settings_from_row(raw: dict[str, Any]) -> TenantSettings:
    """Stored settings, with defaults for fields added after they were written."""
    return msgspec.convert(raw, TenantSettings)


def settings_to_row(settings: TenantSettings) -> dict[str, Any]:
    row: dict[str, Any] = msgspec.to_builtins(settings)
    return row


def default_settings(caps: PlatformCaps) -> TenantSettings:
    """The documented defaults, lowered where the platform's caps are stricter."""
    defaults = TenantSettings()
    access = min(defaults.access_token_minutes, caps.max_access_token_minutes)
    absolute = min(defaults.refresh_token_absolute_minutes, caps.max_refresh_token_minutes)
    return msgspec.structs.replace(
        defaults,
        access_token_minutes=min(access, absolute),
        refresh_token_absolute_minutes=absolute,
        refresh_token_idle_minutes=min(defaults.refresh_token_idle_minutes, absolute),
        max_requested_access_token_minutes=min(
            defaults.max_requested_access_token_minutes, caps.max_access_token_minutes
        ),
        max_requested_refresh_token_minutes=min(
            defaults.max_requested_refresh_token_minutes, caps.max_refresh_token_minutes
        ),
    )
