"""Every Redis key Gatehouse uses, spelled here and nowhere else. All of them start with `gh:`.

Keys that name a token hold its SHA-256 digest, never the token. The strings must not change:
processes that are running, and the records they have already written, use them as they are.

Redis Cluster will need hash tags here. A Lua script may only touch keys in one hash slot, and
some scripts touch several keys: a session script reads a token and then the session it names,
an application-ticket script reads a token and then the application's state, and the attempt
limiter checks a failure count together with its lock. On Cluster, each of those groups gets a
shared hash tag (`gh:{...}:...`) in this module. The scripts build the keys they derive from the
prefixes below, so they stay the same. There are no hash tags yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PREFIX = "gh:"

# --- customer sessions (service.sessions.store) -------------------------------------------------

SESSION_KEY_PREFIX = f"{PREFIX}sess:"
ACCESS_KEY_PREFIX = f"{PREFIX}cat:"
REFRESH_KEY_PREFIX = f"{PREFIX}crt:"


def session_key(sid: str) -> str:
    return f"{SESSION_KEY_PREFIX}{sid}"


def account_sessions_key_prefix(tenant_id: int) -> str:
    """The start of every account-sessions key of a tenant. The refresh script adds the account id to it."""
    return f"{PREFIX}acctsess:{tenant_id}:"


def account_sessions_key(tenant_id: int, account_id: int) -> str:
    """The set of an account's session ids, so they can all be ended at once."""
    return f"{account_sessions_key_prefix(tenant_id)}{account_id}"


def access_key(digest: str) -> str:
    """An opaque customer access token: its session id and claims."""
    return f"{ACCESS_KEY_PREFIX}{digest}"


def refresh_key(digest: str) -> str:
    """A customer refresh token: its session id, and whether it is current or retired."""
    return f"{REFRESH_KEY_PREFIX}{digest}"


# --- two-factor challenges and emailed codes (service.twofactor.challenges) ---------------------


def pending_key(digest: str) -> str:
    return f"{PREFIX}pending:{digest}"


def pending_by_user_key(tenant_id: int, user_id: str) -> str:
    return f"{PREFIX}pendinguser:{tenant_id}:{user_id}"


def email_code_key(tenant_id: int, customer_set_id: int, email_normalized: str) -> str:
    return f"{PREFIX}otp:{tenant_id}:{customer_set_id}:{hashlib.sha256(email_normalized.encode()).hexdigest()}"


# --- password resets (service.accounts.service) -------------------------------------------------


def password_reset_key(tenant_id: int, account_id: int) -> str:
    return f"{PREFIX}pwreset:{tenant_id}:{account_id}"


# --- admin tokens (service.admins.service) -----------------------------------------------------


def admin_token_key(digest: str) -> str:
    return f"{PREFIX}admintok:{digest}"


def admin_tokens_key(admin_id: int) -> str:
    """The digests of an admin's tokens, so a password change or disabling ends them all at once."""
    return f"{PREFIX}admintoks:{admin_id}"


# --- application tickets (service.applications.tickets) ----------------------------------------

APP_STATE_KEY_PREFIX = f"{PREFIX}app:"


def app_token_key(digest: str) -> str:
    return f"{PREFIX}apptok:{digest}"


def app_refresh_token_key(digest: str) -> str:
    return f"{PREFIX}apprt:{digest}"


def app_state_key(application_id: int) -> str:
    return f"{APP_STATE_KEY_PREFIX}{application_id}"


# --- attempt limits (service.limits) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttemptKeys:
    """The keys of one attempt limit: the attempts counted in its window, and its lock."""

    failures: str
    lock: str


def account_attempt_keys(tenant_id: int, account_id: int) -> AttemptKeys:
    """A customer account's lockout."""
    return AttemptKeys(f"{PREFIX}fail:{tenant_id}:{account_id}", f"{PREFIX}lock:{tenant_id}:{account_id}")


def address_failures_key(tenant_id: int, address: str) -> str:
    return f"{PREFIX}addrfail:{tenant_id}:{address}"


def magento_token_attempt_keys(tenant_id: int, website_id: int, user_name: str) -> AttemptKeys:
    """Magento's customer-token throttle, per website and user name (normalized, as logins match it)."""
    subject = f"{tenant_id}:{website_id}:{hashlib.sha256(user_name.encode()).hexdigest()}"
    return AttemptKeys(f"{PREFIX}magefail:{subject}", f"{PREFIX}magelock:{subject}")


def admin_sign_in_attempt_keys(tenant_id: int | None, username: str, client_address: str | None) -> AttemptKeys:
    """Admin sign-in, per tenant, username (in any case) and client address."""
    subject = hashlib.sha256(f"{tenant_id or 0}|{username.lower()}|{client_address or '-'}".encode()).hexdigest()
    return AttemptKeys(f"{PREFIX}adminfail:{subject}", f"{PREFIX}adminlock:{subject}")
