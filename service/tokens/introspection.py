"""RFC 7662 introspection and RFC 7009 revocation of a tenant's customer tokens.

Both read Redis only. Anything not positively active — unknown, expired, revoked, another
tenant's, malformed — is exactly `{"active": false}`; a Redis outage is a 503, never `active: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from service.applications.behaviors import Behavior
from service.applications.tickets import AppPrincipal, AppTickets
from service.audit import Actor
from service.errors import ErrorCode, Unauthenticated
from service.platform.crypto import token_digest
from service.platform.metrics import metrics
from service.sessions.record import SessionRecord
from service.sessions.revocations import SessionRevocations
from service.sessions.store import Sessions
from service.tokens import jwt_tokens
from service.tokens.resolver import TokenKind, TokenResolver, kind_of


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """RFC 7662's answer. An inactive token is exactly `{"active": false}`: every other member is left out."""

    active: bool
    token_type: str | None = None
    scope: str | None = None
    client_id: str | None = None
    username: str | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
    tid: int | None = None
    sid: str | None = None
    account_id: int | None = None
    customer_set: str | None = None
    iat: int | None = None
    exp: int | None = None
    jti: str | None = None


INACTIVE = TokenInfo(active=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallerCredentials:
    """What an introspection or revocation caller presented: client credentials, or its app token."""

    client_id: str | None = None
    client_secret: str | None = None
    bearer: str | None = None


def invalid_introspection_client() -> Unauthenticated:
    return Unauthenticated(
        "Authenticate as an application of this tenant with the behavior tokens:introspect.",
        code=ErrorCode.INVALID_CLIENT,
        oauth_error="invalid_client",
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenIntrospection:
    app_tickets: AppTickets
    sessions: Sessions
    revocations: SessionRevocations
    resolver: TokenResolver
    issuer_for: Callable[[int], str]

    async def authorize(self, tenant_id: int, credentials: CallerCredentials) -> AppPrincipal:
        """The calling application, when it is the tenant's and holds `tokens:introspect`."""
        if credentials.client_id is not None and credentials.client_secret is not None:
            principal = await self.app_tickets.verify_client(credentials.client_id, credentials.client_secret)
        elif credentials.bearer:
            principal = await self.app_tickets.authenticate(credentials.bearer)
        else:
            raise invalid_introspection_client()
        if principal.tenant_id != tenant_id or Behavior.TOKENS_INTROSPECT.value not in principal.behaviors:
            raise invalid_introspection_client()
        return principal

    async def introspect(self, tenant_id: int, token: str) -> TokenInfo:
        info = await self._introspect(tenant_id, token)
        metrics().introspections.labels("active" if info.active else "inactive").inc()
        return info

    async def _introspect(self, tenant_id: int, token: str) -> TokenInfo:
        if kind_of(token) is TokenKind.CUSTOMER_REFRESH:
            session = await self.sessions.session_for_refresh(token, current_only=True)
            if session is None or session.tenant_id != tenant_id:
                return INACTIVE
            expires_ms = await self.sessions.expires_at_ms(session.session_id)
            return self._active(
                session, "refresh_token", session.created_ms // 1000, expires_ms // 1000, token_digest(token)[:22]
            )
        access = await self.resolver.access(token)
        if access is None or access.session.tenant_id != tenant_id:
            return INACTIVE
        return self._active(access.session, "access_token", access.issued_at, access.expires_at, access.jti)

    def _active(self, session: SessionRecord, token_type: str, issued_at: int, expires_at: int, jti: str) -> TokenInfo:
        issuer = self.issuer_for(session.tenant_id)
        return TokenInfo(
            active=True,
            token_type=token_type,
            scope="customer",
            client_id=session.client_id,
            username=session.login_name,
            sub=session.user_id,
            aud=jwt_tokens.audience_for(issuer),
            iss=issuer,
            tid=session.tenant_id,
            sid=session.session_id,
            account_id=session.account_id,
            customer_set=session.customer_set_code,
            iat=issued_at,
            exp=expires_at,
            jti=jti,
        )

    async def revoke(self, actor: Actor, tenant_id: int, token: str) -> None:
        """A refresh token ends its session (told as `session.revoked`, reason logout); an active access token
        ends that session's access tokens."""
        if kind_of(token) is TokenKind.CUSTOMER_REFRESH:
            session = await self.sessions.session_for_refresh(token)
            if session is not None and session.tenant_id == tenant_id:
                await self.revocations.end(actor, session, "logout")
            return
        access = await self.resolver.access(token)
        if access is not None and access.session.tenant_id == tenant_id:
            await self.sessions.end_access_tokens(access.session.session_id)
