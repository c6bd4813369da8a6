"""The opaque tokens of a customer session: their prefixes, what Redis keeps of them, what a caller gets.

A token names its session (`gh_cat_<session id>.<random>`), so that the keys of a validation or a refresh
are known before Redis is asked (`service.platform.keyspace`). The session id only says where to look:
a token is what its digest's record says. Tokens of sessions opened before session ids had a hash tag
stay as they were (`gh_cat_<random>`); their record says their session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec

from service.platform.crypto import new_token
from service.platform.keyspace import is_tagged_session_id

ACCESS_PREFIX = "gh_cat_"
REFRESH_PREFIX = "gh_crt_"


def session_token(prefix: str, sid: str) -> str:
    return new_token(f"{prefix}{sid}." if is_tagged_session_id(sid) else prefix)


def session_id_in(token: str, prefix: str) -> str | None:
    """The session id a token (with `prefix`) names; None for a token without one, or not of today's form."""
    sid, dot, _ = token.removeprefix(prefix).rpartition(".")
    return sid if dot and is_tagged_session_id(sid) else None


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_ms: int
    refresh_expires_ms: int
    jti: str


class SessionReference(msgspec.Struct, frozen=True):
    """What every token record has: its session's id."""

    sid: str


class AccessRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An opaque access token's entry, under its digest; active while `atv` is its session's."""

    sid: str
    atv: int
    jti: str
    iat: int  # seconds
    exp: int


class RefreshRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A refresh token's entry, under its digest. Rotation adds the retired token's successor fields in Lua."""

    sid: str
    state: str  # "current" or "retired"
