"""Append-only audit trail in PostgreSQL, written in the same transaction as the change it records.

Each audited action that is also a catalogue event (`service.events.catalogue`) goes to the outbox in the
same statement as its audit row: every change that is audited is told to the tenant's webhook endpoints,
whichever surface made it, and only if it commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from service.audit import repository as repo
from service.audit.repository import AuditEntry
from service.events import outbox
from service.platform.db import Connection, Database
from service.platform.metrics import metrics


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, and from where. The surface that took the request builds it."""

    name: str  # "admin:12", "app:<client id>", "customer:55", "system"
    client_address: str | None = None
    request_id: str | None = None


SYSTEM = Actor("system")


class AuditEvent(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    occurred_at: datetime
    actor: str
    action: str
    client_ip: str | None
    request_id: str | None
    details: dict[str, Any]


def entry(
    actor: Actor,
    tenant_id: int | None,
    action: str,
    target_type: str,
    target_id: object,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """The audit row of a change and its outbox event, for `record` or for a statement that writes them with the
    change itself (`repo.AUDIT_ROW_AND_EVENT`)."""
    # Counted as written; a transaction rolled back afterwards (rare: the write failed) still counts.
    metrics().events.labels(action).inc()
    target, facts = str(target_id), details or {}
    return AuditEntry(
        tenant_id,
        actor.name,
        action,
        target_type,
        target,
        actor.client_address,
        actor.request_id,
        facts,
        outbox.event_for(tenant_id, action, target_type, target, actor.name, facts),
    )


async def record(
    conn: Connection,
    actor: Actor,
    tenant_id: int | None,
    action: str,
    target_type: str,
    target_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    await repo.insert(conn, entry(actor, tenant_id, action, target_type, target_id, details))


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditTrail:
    db: Database

    async def of_account(self, tenant_id: int, account_id: int, limit: int) -> list[AuditEvent]:
        """Who changed a customer account, what, when and from where; newest first."""
        return await self._of(tenant_id, "customer_account", account_id, limit)

    async def of_import_job(self, tenant_id: int, job_id: int, limit: int) -> list[AuditEvent]:
        """Who started, resumed and finished an import job, with its counts; newest first."""
        return await self._of(tenant_id, "import_job", job_id, limit)

    async def _of(self, tenant_id: int, target_type: str, target_id: int, limit: int) -> list[AuditEvent]:
        rows = await repo.for_target(self.db, tenant_id, target_type, str(target_id), limit)
        return [AuditEvent(**dict(row)) for row in rows]
