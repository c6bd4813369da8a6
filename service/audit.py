"""Append-only audit trail in PostgreSQL, written in the same transaction as the change it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from service.http.request_context import client_address_of, request_id_of


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change, and from where."""

    name: str  # "admin:12", "app:<client id>", "customer:55", "system"
    client_address: str | None = None
    request_id: str | None = None

    @classmethod
    def from_scope(cls, name: str, scope: Any) -> "Actor":
        return cls(name, client_address_of(scope), request_id_of(scope) or None)


SYSTEM = Actor("system")


async def record(
    conn: asyncpg.Connection,
    actor: Actor,
    tenant_id: int | None,
    action: str,
    target_type: str,
    target_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO audit_events (tenant_id, actor, action, target_type, target_id, client_ip, request_id, details)
           VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8)""",
        tenant_id, actor.name, action, target_type, str(target_id), actor.client_address, actor.request_id,
        details or {},
    )
