"""Sessions a customer or an application ends on purpose — logout, revoke-all, a reused refresh token —
recorded in PostgreSQL too: in the audit trail, and so in the outbox as `session.revoked`.

Sessions live in Redis only. The Redis change runs inside the PostgreSQL transaction that records it, just
before the commit: when Redis fails nothing is recorded, and a recorded revocation has happened. Only a crash
between the two (or a failed commit) can leave a revocation untold; it never leaves a session alive.
Sessions that end as part of another change (a password change, a lock, a deletion) are told by that
change's own event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from service import audit
from service.audit import SYSTEM, Actor
from service.platform.db import Database
from service.sessions.record import SessionRecord
from service.sessions.store import Sessions
from service.tenants.transactions import tenant_transaction


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRevocations:
    db: Database
    sessions: Sessions

    async def end(self, actor: Actor, session: SessionRecord, reason: str) -> None:
        """End one session (`reason`: logout)."""
        async with self._recorded(actor, session.tenant_id, session.account_id) as details:
            await self.sessions.end(session)
            details.update(reason=reason, sessionId=session.session_id)

    async def end_all(self, actor: Actor, tenant_id: int, account_id: int) -> None:
        """End every session of an account, at its own or its application's request."""
        async with self._recorded(actor, tenant_id, account_id) as details:
            ended = await self.sessions.end_all_for_account(tenant_id, account_id)
            details.update(reason="revoke_all", sessions=ended)

    async def reused(self, session: SessionRecord) -> None:
        """A retired refresh token came back: the rotation script has already ended its session."""
        async with self._recorded(SYSTEM, session.tenant_id, session.account_id) as details:
            details.update(reason="reuse_detected", sessionId=session.session_id)

    @asynccontextmanager
    async def _recorded(self, actor: Actor, tenant_id: int, account_id: int) -> AsyncIterator[dict[str, object]]:
        """A transaction around the Redis change; the details it fills in are audited just before the commit."""
        details: dict[str, object] = {}
        async with tenant_transaction(self.db, tenant_id) as conn:
            yield details
            await audit.record(conn, actor, tenant_id, "session.revoked", "customer_account", account_id, details)
