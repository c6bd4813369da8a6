"""JWT access tokens (RFC 9068 profile): issued with the tenant's current key, verified strictly.

Verification trusts nothing in the token's header beyond `kid`: the algorithm is the key's own,
`jku`, `jwk`, `x5u`, `x5c` and `crit` headers are refused outright, the tenant comes from the
issuer we expect and the signature must match a key of that tenant.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import msgspec

from service.tokens.keys import KeyCache

TOKEN_TYPE = "at+jwt"
_FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
LEEWAY_SECONDS = 5


def audience_for(issuer: str) -> str:
    """Who the token is for: the tenant's commerce API (documented in the discovery document)."""
    return f"{issuer}/api"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    issuer: str
    subject: str
    audience: str
    tenant_id: int
    account_id: int
    session_id: str
    jti: str
    client_id: str
    customer_set: str
    amr: list[str]
    access_version: int
    username: str | None
    issued_at: int
    expires_at: int

    def to_jwt_claims(self) -> dict[str, Any]:
        return {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience,
            "exp": self.expires_at,
            "iat": self.issued_at,
            "nbf": self.issued_at,
            "jti": self.jti,
            "sid": self.session_id,
            "tid": self.tenant_id,
            "account_id": self.account_id,
            "customer_set": self.customer_set,
            "client_id": self.client_id,
            "amr": self.amr,
            "atv": self.access_version,
            "username": self.username,
        }


# PyJWT's JWS layer, given the claims already encoded: `jwt.encode` would encode them again with the standard json
# module and check claim types ours never need (every claim is a str, int or list of str), a quarter of the cost
# of every token a login and a refresh sign.
_JWS = jwt.PyJWS()


async def issue(keys: KeyCache, claims: AccessClaims) -> str:
    key = (await keys.keys(claims.tenant_id)).current
    return _JWS.encode(
        msgspec.json.encode(claims.to_jwt_claims()),
        key.private_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": TOKEN_TYPE},
    )


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


def _claimed_key(token: str) -> tuple[int, str, str] | None:
    """(tenant id, kid, alg) the token claims, when its header is one we issue; nothing here is verified yet."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, json.JSONDecodeError):
        return None
    if header.get("typ") != TOKEN_TYPE or _FORBIDDEN_HEADERS & header.keys() or not isinstance(header.get("kid"), str):
        return None
    tenant_id = unverified.get("tid")
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool) or not 0 < tenant_id < 2**31:
        return None
    return tenant_id, header["kid"], str(header.get("alg"))


@dataclass(frozen=True, slots=True)
class Verified:
    """An access JWT whose signature, issuer, audience and times were valid when checked."""

    tenant_id: int
    kid: str  # the tenant's key it was signed with
    claims: dict[str, Any]


async def verify(keys: KeyCache, token: str, issuer_for: Callable[[int], str]) -> Verified | None:
    """A valid access JWT's claims, else None. Session liveness is the caller's next check."""
    claimed = _claimed_key(token)
    if claimed is None:
        return None
    tenant_id, kid, algorithm = claimed
    key = await keys.verification_key(tenant_id, kid)
    if key is None or algorithm != key.algorithm:
        return None
    issuer = issuer_for(tenant_id)
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.algorithm],
            audience=audience_for(issuer),
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid", "tid", "atv"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("tid") != tenant_id or claims["exp"] < time.time() - LEEWAY_SECONDS:
        return None
    return Verified(tenant_id, kid, claims)
