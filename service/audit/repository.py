"""SQL for the audit trail: rows are only ever added, each naming its tenant (or none, for the platform)."""

from __future__ import annotations

from typing import Any

import asyncpg

from service.platform.db import Conn


async def insert(
    conn: Conn,
    tenant_id: int | None,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    client_ip: str | None,
    request_id: str | None,
    details: dict[str, Any],
) -> None:
    await conn.execute(
        """INSERT INTO audit_events (tenant_id, actor, action, target_type, target_id, client_ip, request_id, details)
           VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8)""",
        tenant_id,
        actor,
        action,
        target_type,
        target_id,
        client_ip,
        request_id,
        details,
    )


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
