"""Opening a customer session and the ticket a caller gets for it: shared by every way of logging in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from service import audit
from service.accounts.records import Account
from service.audit import Actor
from service.platform.config import Settings
from service.platform.db import Database
from service.sessions import repository as repo
from service.sessions.durations import Durations
from service.sessions.record import SessionRecord, account_snapshot
from service.sessions.store import Sessions
from service.sessions.tokens import IssuedTokens, now_ms
from service.tenants.scope import CustomerScope
from service.tokens import jwt_tokens
from service.tokens.keys import KeyCache
from service.twofactor.challenges import Challenges


@dataclass(frozen=True, slots=True)
class CustomerTicket:
    """What a login, a second step or a refresh hands back; each surface renders it in its own shape.

    A pending login (password right, second factor outstanding) has only `access_token`, the pending
    token that opens the second step, and `requires_second_factor`.
    """

    access_token: str
    access_expires_ms: int
    user_id: str
    requires_second_factor: bool = False
    jwt_access_token: str | None = None
    refresh_token: str | None = None
    refresh_expires_ms: int | None = None
    account: Account | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionIssuer:
    settings: Settings
    db: Database
    sessions: Sessions
    keys: KeyCache
    challenges: Challenges

    def template(
        self,
        scope: CustomerScope,
        account: Account,
        durations: Durations,
        fingerprint: str | None,
        region: str | None,
        amr: list[str],
    ) -> SessionRecord:
        """The session a successful first factor would open (or a pending login carries until the second)."""
        return SessionRecord(
            session_id="",  # the store names the session when it opens it
            tenant_id=scope.tenant_id,
            account_id=account.id,
            user_id=account.user_id or "",
            client_id=scope.app.client_id,
            application_id=scope.app.application_id,
            customer_set_id=scope.customer_set_id,
            customer_set_code=scope.customer_set_code,
            fingerprint=fingerprint,
            region=region,
            idle_seconds=durations.idle_seconds,
            absolute_expiry_ms=now_ms() + durations.absolute_seconds * 1000,
            access_seconds=durations.access_seconds,
            amr=amr,
            grace_seconds=scope.settings.refresh_reuse_grace_seconds,
            login_name=account.login_name,
            account_json=account_snapshot(account),
        )

    async def finish_login(
        self, actor: Actor, session: SessionRecord, action: str, clears: Sequence[str] = ()
    ) -> CustomerTicket:
        """Record the login (its time and region, in the audit trail too) and open the session, deleting `clears`
        (the account's failed attempts) in the same script."""
        amr = {"amr": session.amr}
        audited = audit.entry(actor, session.tenant_id, action, "customer_account", session.account_id, amr)
        await repo.record_login(self.db, audited, session.account_id, session.region)
        return await self.start(session, clears)

    async def start(self, session: SessionRecord, clears: Sequence[str] = ()) -> CustomerTicket:
        stored, tokens = await self.sessions.create(session, clears)
        return await self.ticket(stored, tokens)

    async def pending(
        self,
        scope: CustomerScope,
        actor: Actor,
        template: SessionRecord,
        account: Account,
        *,
        totp: bool,
        totp_only: bool = False,
    ) -> CustomerTicket:
        """Password (or email code) accepted, second factor outstanding: a token for the second step only."""
        record = {
            **msgspec.to_builtins(template),
            "attempts": scope.settings.two_factor.max_code_attempts,
            "totp": totp,
            "totp_only": totp_only,
            "email": account.email_address,
            "first_name": account.first_name,
        }
        token, seconds = await self.challenges.open_pending(record)
        async with self.db.acquire() as conn:
            await audit.record(conn, actor, scope.tenant_id, "2fa.challenged", "customer_account", account.id)
        return CustomerTicket(token, now_ms() + seconds * 1000, template.user_id, requires_second_factor=True)

    async def ticket(self, session: SessionRecord, tokens: IssuedTokens) -> CustomerTicket:
        issuer = self.settings.issuer_for(session.tenant_id)
        claims = jwt_tokens.AccessClaims(
            issuer=issuer,
            subject=session.user_id,
            audience=jwt_tokens.audience_for(issuer),
            tenant_id=session.tenant_id,
            account_id=session.account_id,
            session_id=session.session_id,
            jti=tokens.jti,
            client_id=session.client_id,
            customer_set=session.customer_set_code,
            amr=session.amr,
            access_version=session.access_version,
            username=session.login_name,
            issued_at=now_ms() // 1000,
            expires_at=tokens.access_expires_ms // 1000,
        )
        return CustomerTicket(
            access_token=tokens.access_token,
            access_expires_ms=tokens.access_expires_ms,
            user_id=session.user_id,
            jwt_access_token=await jwt_tokens.issue(self.keys, claims),
            refresh_token=tokens.refresh_token,
            refresh_expires_ms=tokens.refresh_expires_ms,
            account=session.account,
        )
