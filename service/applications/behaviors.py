"""Behaviors: the permissions an application can hold, named once, here.

OpenAPI lists them as the `Behavior` enum and `GET /admin/v1/behaviors` describes them.
"""

from __future__ import annotations

from enum import StrEnum


class Behavior(StrEnum):
    ACCOUNTS_READ = "customer:accounts:read"
    ACCOUNTS_WRITE = "customer:accounts:write"
    AUTHTICKETS = "customer:authtickets"
    CONFIGURE_TOKEN_DURATIONS = "customer-auth:configure-token-durations"
    TOKENS_INTROSPECT = "tokens:introspect"


DESCRIPTIONS: dict[Behavior, str] = {
    Behavior.ACCOUNTS_READ: "Read customer accounts, contacts and login state.",
    Behavior.ACCOUNTS_WRITE: "Create, change and delete customer accounts, contacts and logins; set passwords, "
    "lock and unlock logins.",
    Behavior.AUTHTICKETS: "Log customers in (auth tickets, Create-Login, Add-Account-And-Login), refresh and "
    "end their sessions, run 2FA and one-time-code steps.",
    Behavior.CONFIGURE_TOKEN_DURATIONS: "Ask for access and refresh token lifetimes other than the tenant's "
    "defaults, within the tenant's and the platform's caps.",
    Behavior.TOKENS_INTROSPECT: "Introspect (RFC 7662) and revoke (RFC 7009) the tenant's customer tokens.",
}
