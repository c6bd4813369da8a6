"""SQL for the audit trail: rows are only ever added, each naming its tenant (or none, for the platform)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from service.events.outbox import OutboxEvent
from service.platform.db import Conn


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited change as it is written: its audit row, and its event when the change is a catalogue event."""

    tenant_id: int | None
    actor: str
    action: str
    target_type: str
    target_id: str
    client_ip: str | None
    request_id: str | None
    details: dict[str, Any]
    event: OutboxEvent | None


# The audit row ($1-$8) and, when $9 names an event type that an enabled endpoint of the tenant subscribes to, its
# event for the outbox ($9-$12; the account's customer set and externalId read here): one statement, so every
# audited change costs one round trip more, not two. The event's deliveries are queued when the transaction
# commits, by a deferred trigger (migrations/0008_webhook_lane_order.sql). Other statements may join this one's
# WITH list, their parameters numbered from $13.
AUDIT_ROW_AND_EVENT = """audit_row AS (
        INSERT INTO audit_events (tenant_id, actor, action, target_type, target_id, client_ip, request_id, details)
        VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8)
    ),
    outbox_event AS (
        INSERT INTO webhook_events (tenant_id, type, version, account_id, data)
        SELECT $1, $9, $10, $11,
               jsonb_build_object('customerSet', s.customer_set, 'externalId', s.external_id) || $12::jsonb
        FROM (SELECT 1) AS one LEFT JOIN (
            SELECT cs.code AS customer_set, a.external_id FROM customer_accounts a
            JOIN customer_sets cs ON cs.tenant_id = a.tenant_id AND cs.id = a.customer_set_id
            WHERE a.tenant_id = $1 AND a.id = $11
        ) AS s ON true
        WHERE $9::text IS NOT NULL AND EXISTS (
            SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND is_enabled AND $9 = ANY (event_types)
        )
    )"""


def parameters(entry: AuditEntry) -> tuple[Any, ...]:
    """$1-$12 of `AUDIT_ROW_AND_EVENT`."""
    event = entry.event
    return (
        entry.tenant_id,
        entry.actor,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.client_ip,
        entry.request_id,
        entry.details,
        *((event.type, event.version, event.account_id, event.data) if event else (None, None, None, None)),
    )


async def insert(conn: Conn, entry: AuditEntry) -> None:
    await conn.execute(f"WITH {AUDIT_ROW_AND_EVENT} SELECT 1", *parameters(entry))


async def for_target(conn: Conn, tenant_id: int, target_type: str, target_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT occurred_at, actor, action, host(client_ip) AS client_ip, request_id, details FROM audit_events
           WHERE tenant_id = $1 AND target_type = $2 AND target_id = $3
           ORDER BY occurred_at DESC, id DESC LIMIT $4""",
        tenant_id,
        target_type,
        target_id,
        limit,
    )
