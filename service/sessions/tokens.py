"""The opaque tokens of a customer session: their prefixes, what Redis keeps of them, what a caller gets."""

from __future__ import annotations

import time
from dataclasses import dataclass

import msgspec

ACCESS_PREFIX = "gh_cat_"
REFRESH_PREFIX = "gh_crt_"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_ms: int
    refresh_expires_ms: int
    jti: str


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
