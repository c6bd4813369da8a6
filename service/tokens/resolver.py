"""Which kind of token a caller presented, and whose it is: the one place every surface asks.

Gatehouse's opaque tokens carry a prefix that names their kind; access JWTs are recognised by their
shape. Nothing here trusts a token because of its kind: the kind only says where to look it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from service.admins.service import ADMIN_TOKEN_PREFIX
from service.applications.tickets import ACCESS_PREFIX as APP_ACCESS_PREFIX
from service.sessions.record import SessionRecord
from service.sessions.store import Sessions
from service.sessions.tokens import ACCESS_PREFIX, REFRESH_PREFIX
from service.tokens import jwt_tokens
from service.tokens.verified_jwts import VerifiedJwts
from service.twofactor.challenges import PENDING_PREFIX


class TokenKind(Enum):
    CUSTOMER_ACCESS = "customer access token"  # opaque
    CUSTOMER_JWT = "customer access JWT"
    CUSTOMER_REFRESH = "customer refresh token"
    PENDING_LOGIN = "pending login"  # between the password and the second factor
    APPLICATION = "application access token"
    ADMIN = "admin token"
    OTHER = "other"


_BY_PREFIX = (
    (ACCESS_PREFIX, TokenKind.CUSTOMER_ACCESS),
    (REFRESH_PREFIX, TokenKind.CUSTOMER_REFRESH),
    (PENDING_PREFIX, TokenKind.PENDING_LOGIN),
    (APP_ACCESS_PREFIX, TokenKind.APPLICATION),
    (ADMIN_TOKEN_PREFIX, TokenKind.ADMIN),
)
CUSTOMER_KINDS = frozenset({TokenKind.CUSTOMER_ACCESS, TokenKind.CUSTOMER_JWT, TokenKind.PENDING_LOGIN})


def kind_of(token: str) -> TokenKind:
    for prefix, kind in _BY_PREFIX:
        if token.startswith(prefix):
            return kind
    return TokenKind.CUSTOMER_JWT if jwt_tokens.looks_like_jwt(token) else TokenKind.OTHER


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    """A customer acting through one of their sessions."""

    session: SessionRecord

    @property
    def tenant_id(self) -> int:
        return self.session.tenant_id

    @property
    def account_id(self) -> int:
        return self.session.account_id

    @property
    def session_id(self) -> str:
        return self.session.session_id


@dataclass(frozen=True, slots=True)
class ActiveAccess:
    """A customer access token (opaque or JWT) that is active now: its session lives and its version is current."""

    session: SessionRecord
    issued_at: int  # seconds
    expires_at: int
    jti: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenResolver:
    sessions: Sessions
    jwts: VerifiedJwts

    async def access(self, token: str) -> ActiveAccess | None:
        """The active customer access token this is, else None (unknown, expired, revoked, malformed)."""
        kind = kind_of(token)
        if kind is TokenKind.CUSTOMER_JWT:
            claims = await self.jwts.claims(token)
            if claims is None:
                return None
            session = await self.sessions.session_if_current(claims["sid"], claims["atv"])
            return ActiveAccess(session, claims["iat"], claims["exp"], claims["jti"]) if session else None
        if kind is TokenKind.CUSTOMER_ACCESS:
            found = await self.sessions.validate_access(token)
            if found is None:
                return None
            record, session = found
            return ActiveAccess(session, record.iat, record.exp, record.jti)
        return None

    async def customer(self, token: str) -> CustomerPrincipal | None:
        """The customer behind an active access token."""
        access = await self.access(token)
        return CustomerPrincipal(access.session) if access is not None else None
