"""How long a new session's tokens live: the tenant's settings, or what the caller asked within caps."""

from __future__ import annotations

from dataclasses import dataclass

from service.applications.behaviors import Behavior
from service.applications.tickets import AppPrincipal
from service.errors import ErrorCode, FieldError, InvalidInput
from service.platform.config import PlatformCaps
from service.tenants.settings import TenantSettings

# (access token minutes, refresh token minutes) a caller asked for; None: the tenant's default.
Requested = tuple[int | None, int | None]


@dataclass(frozen=True, slots=True)
class Durations:
    access_seconds: int
    idle_seconds: int
    absolute_seconds: int


def resolve_durations(
    settings: TenantSettings,
    caps: PlatformCaps,
    app: AppPrincipal,
    requested_access: int | None,
    requested_refresh: int | None,
) -> Durations:
    if requested_access is not None or requested_refresh is not None:
        app.require(Behavior.CONFIGURE_TOKEN_DURATIONS)
    access = _within(
        "authTicketDurationMinutes",
        requested_access,
        settings.access_token_minutes,
        (settings.max_requested_access_token_minutes, "the tenant's maxRequestedAccessTokenMinutes"),
        (caps.max_access_token_minutes, "the platform's GATEHOUSE_MAX_ACCESS_TOKEN_MINUTES"),
    )
    absolute = _within(
        "refreshTokenDurationMinutes",
        requested_refresh,
        settings.refresh_token_absolute_minutes,
        (settings.max_requested_refresh_token_minutes, "the tenant's maxRequestedRefreshTokenMinutes"),
        (caps.max_refresh_token_minutes, "the platform's GATEHOUSE_MAX_REFRESH_TOKEN_MINUTES"),
    )
    idle = min(settings.refresh_token_idle_minutes, absolute)
    return Durations(access * 60, idle * 60, absolute * 60)


def _within(field: str, requested: int | None, default: int, *caps: tuple[int, str]) -> int:
    if requested is None:
        return default
    for limit, name in caps:
        if requested > limit:
            problem = f"must be at most {limit} minutes ({name})"
            raise InvalidInput(
                f"{field} {problem}.", code=ErrorCode.DURATION_ABOVE_CAP, field_errors=(FieldError(field, problem),)
            )
    return requested
