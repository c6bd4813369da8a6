"""Every Redis key Gatehouse uses, spelled here and nowhere else. All of them start with `gh:`.

Keys that name a token hold its SHA-256 digest, never the token.

Redis Cluster runs a Lua script or a transaction only when all its keys are in one hash slot, and a
script must be handed every key it touches in KEYS. So the keys that are used together carry one
hash tag (the part in braces, the only part Cluster hashes), chosen here:

- an account's sessions, their access and refresh tokens and the set of their ids share the account's
  tag (`account_tag`): a session id starts with it, and a session's opaque tokens carry the session
  id, so every key of a refresh, a validation or a revoke-all is known before the script runs;
- an application's access and refresh tokens and its cached state share the application's tag, which
  its tokens carry (`gh_at_<application id>.<random>`);
- the failure count and the lock of one attempt limit share their subject as tag; a customer account's are
  under the account's tag, so the script that opens a login's session also clears its failures.

Keys read or written on their own (pending logins, emailed codes, resets, admin tokens, address
throttles) need no tag. Sessions opened before the tags came (no tag in the session id) keep their
old key names, which one server or Sentinel still serves: `None` as session id names the key of a
token from those days, whose record says its session.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PREFIX = "gh:"


def _tagged(tag: str, rest: str) -> str:
    return f"{PREFIX}{{{tag}}}:{rest}"


# --- customer sessions (service.sessions.store) -------------------------------------------------

ACCOUNT_TAG_LENGTH = 4  # 65,536 tags, spread over Cluster's 16,384 slots
_TAGGED_SESSION_ID = re.compile(r"[0-9a-f]{4}\.[A-Za-z0-9_-]+\Z")


def account_tag(tenant_id: int, account_id: int) -> str:
    """The hash tag of an account's sessions: a digest, so that tokens do not spell the account's id."""
    return hashlib.sha256(f"{tenant_id}:{account_id}".encode()).hexdigest()[:ACCOUNT_TAG_LENGTH]


def is_tagged_session_id(sid: str) -> bool:
    """A session id of today's form, `<account tag>.<random>`; older ones have no tag."""
    return _TAGGED_SESSION_ID.match(sid) is not None


def _of_session(sid: str | None, rest: str) -> str:
    return _tagged(sid[:ACCOUNT_TAG_LENGTH], rest) if sid and is_tagged_session_id(sid) else f"{PREFIX}{rest}"


def session_key(sid: str) -> str:
    return _of_session(sid, f"sess:{sid}")


_SESSION_KEY = re.compile(rf"{PREFIX}(\{{[0-9a-f]{{{ACCOUNT_TAG_LENGTH}}}\}}:)?sess:")


def is_session_key(key: str) -> bool:
    """Whether a key (as SCAN lists it) is a session's, tagged or not: for tools that survey the keyspace."""
    return _SESSION_KEY.match(key) is not None


def access_key(sid: str | None, digest: str) -> str:
    """An opaque customer access token of session `sid`: its session id and claims."""
    return _of_session(sid, f"cat:{digest}")


def refresh_key(sid: str | None, digest: str) -> str:
    """A customer refresh token of session `sid`: its session id, and whether it is current or retired."""
    return _of_session(sid, f"crt:{digest}")


def account_sessions_key(tenant_id: int, account_id: int) -> str:
    """The set of an account's session ids, so they can all be ended at once."""
    return _tagged(account_tag(tenant_id, account_id), f"acctsess:{tenant_id}:{account_id}")


def untagged_account_sessions_key(tenant_id: int, account_id: int) -> str:
    """The set of the account's sessions opened before the tags came."""
    return f"{PREFIX}acctsess:{tenant_id}:{account_id}"


def sessions_set_key(tenant_id: int, account_id: int, sid: str) -> str:
    """The set that lists session `sid`."""
    if is_tagged_session_id(sid):
        return account_sessions_key(tenant_id, account_id)
    return untagged_account_sessions_key(tenant_id, account_id)


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


def _of_application(application_id: int | None, rest: str) -> str:
    return f"{PREFIX}{rest}" if application_id is None else _tagged(f"app{application_id}", rest)


def app_token_key(application_id: int | None, digest: str) -> str:
    """An application access token; `None` for one issued before the tags came."""
    return _of_application(application_id, f"apptok:{digest}")


def app_refresh_token_key(application_id: int | None, digest: str) -> str:
    return _of_application(application_id, f"apprt:{digest}")


def app_state_key(application_id: int) -> str:
    return _of_application(application_id, f"app:{application_id}")


# --- attempt limits (service.limits) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttemptKeys:
    """The keys of one attempt limit: the attempts counted in its window, and its lock (one hash slot)."""

    failures: str
    lock: str


def _attempt_keys(failures: str, lock: str, subject: str) -> AttemptKeys:
    return AttemptKeys(f"{PREFIX}{failures}:{{{subject}}}", f"{PREFIX}{lock}:{{{subject}}}")


def account_attempt_keys(tenant_id: int, account_id: int) -> AttemptKeys:
    """A customer account's lockout, under the account's tag: the script that opens a login's session also clears
    the account's failures."""
    tag, subject = account_tag(tenant_id, account_id), f"{tenant_id}:{account_id}"
    return AttemptKeys(_tagged(tag, f"fail:{subject}"), _tagged(tag, f"lock:{subject}"))


def address_failures_key(tenant_id: int, address: str) -> str:
    return f"{PREFIX}addrfail:{tenant_id}:{address}"


def magento_token_attempt_keys(tenant_id: int, website_id: int, user_name: str) -> AttemptKeys:
    """Magento's customer-token throttle, per website and user name (normalized, as logins match it)."""
    subject = f"{tenant_id}:{website_id}:{hashlib.sha256(user_name.encode()).hexdigest()}"
    return _attempt_keys("magefail", "magelock", subject)


def admin_sign_in_attempt_keys(tenant_id: int | None, username: str, client_address: str | None) -> AttemptKeys:
    """Admin sign-in, per tenant, username (in any case) and client address."""
    subject = hashlib.sha256(f"{tenant_id or 0}|{username.lower()}|{client_address or '-'}".encode()).hexdigest()
    return _attempt_keys("adminfail", "adminlock", subject)
