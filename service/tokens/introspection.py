"""RFC 7662 introspection and RFC 7009 revocation of a tenant's customer tokens.

Both read Redis only. Anything not positively active — unknown, expired, revoked, another
tenant's, malformed — is exactly `{"active": false}`; a Redis outage is a 503, never `active: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.platform.crypto import token_digest
from service.sessions.record import SessionRecord
from service.sessions.store import Sessions
from service.tokens import jwt_tokens
from service.tokens.resolver import TokenKind, TokenResolver, kind_of

INACTIVE = {"active": False}


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenIntrospection:
    sessions: Sessions
    resolver: TokenResolver
    issuer_for: Callable[[int], str]

    async def introspect(self, tenant_id: int, token: str) -> dict[str, Any]:
        if kind_of(token) is TokenKind.CUSTOMER_REFRESH:
            session = await self.sessions.session_for_refresh(token, current_only=True)
            if session is None or session.tenant_id != tenant_id:
                return INACTIVE
            return self._active(
                session,
                "refresh_token",
                {
                    "iat": session.created_ms // 1000,
                    "exp": await self.sessions.expires_at_ms(session.session_id) // 1000,
                    "jti": token_digest(token)[:22],
                },
            )
        access = await self.resolver.access(token)
        if access is None or access.session.tenant_id != tenant_id:
            return INACTIVE
        return self._active(
            access.session, "access_token", {"iat": access.issued_at, "exp": access.expires_at, "jti": access.jti}
        )

    def _active(self, session: SessionRecord, token_type: str, times: dict[str, Any]) -> dict[str, Any]:
        issuer = self.issuer_for(session.tenant_id)
        return {
            "active": True,
            "token_type": token_type,
            "scope": "customer",
            "client_id": session.client_id,
            "username": session.login_name,
            "sub": session.user_id,
            "aud": jwt_tokens.audience_for(issuer),
            "iss": issuer,
            "tid": session.tenant_id,
            "sid": session.session_id,
            "account_id": session.account_id,
            "customer_set": session.customer_set_code,
            **times,
        }

    async def revoke(self, tenant_id: int, token: str) -> None:
        """A refresh token ends its session; an active access token ends that session's access tokens."""
        if kind_of(token) is TokenKind.CUSTOMER_REFRESH:
            session = await self.sessions.session_for_refresh(token)
            if session is not None and session.tenant_id == tenant_id:
                await self.sessions.end(session)
            return
        access = await self.resolver.access(token)
        if access is not None and access.session.tenant_id == tenant_id:
            await self.sessions.end_access_tokens(access.session.session_id)
