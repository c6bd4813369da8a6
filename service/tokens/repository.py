"""SQL for per-tenant JWT signing keys. Every statement names its tenant."""

from __future__ import annotations

from typing import Any

import msgspec

from service.errors import ErrorCode, NotFound
from service.platform.db import Conn, Connection


class StoredKey(msgspec.Struct, frozen=True, kw_only=True):
    kid: str
    algorithm: str
    private_pem: str  # sealed with the secrets key
    public_jwk: dict[str, Any]
    status: str  # "current" or "previous"


async def lock_tenant_algorithm(conn: Connection, tenant_id: int) -> str:
    """The tenant's signing algorithm, with its row locked: one key change per tenant at a time."""
    raw = await conn.fetchval("SELECT settings FROM tenants WHERE id = $1 FOR UPDATE", tenant_id)
    if raw is None:
        raise NotFound("Tenant not found.", code=ErrorCode.TENANT_NOT_FOUND)
    algorithm: str = raw.get("signingAlgorithm", "ES256")
    return algorithm


async def insert_current(
    conn: Conn, tenant_id: int, kid: str, algorithm: str, sealed_pem: str, public_jwk: dict[str, Any]
) -> None:
    await conn.execute(
        """INSERT INTO signing_keys (kid, tenant_id, algorithm, private_pem, public_jwk, status)
           VALUES ($1, $2, $3, $4, $5, 'current')""",
        kid,
        tenant_id,
        algorithm,
        sealed_pem,
        public_jwk,
    )


async def demote_keys(conn: Conn, tenant_id: int) -> None:
    """The previous key retires and the current one becomes previous."""
    await conn.execute(
        "UPDATE signing_keys SET status = 'retired', retired_at = now() WHERE tenant_id = $1 AND status = 'previous'",
        tenant_id,
    )
    await conn.execute(
        "UPDATE signing_keys SET status = 'previous' WHERE tenant_id = $1 AND status = 'current'", tenant_id
    )


async def has_current(conn: Conn, tenant_id: int) -> bool:
    value: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM signing_keys WHERE tenant_id = $1 AND status = 'current')", tenant_id
    )
    return value


async def verification_keys(conn: Conn, tenant_id: int) -> list[StoredKey]:
    """The current key and, after a rotation, the previous one."""
    rows = await conn.fetch(
        """SELECT kid, algorithm, private_pem, public_jwk, status FROM signing_keys
           WHERE tenant_id = $1 AND status IN ('current', 'previous')""",
        tenant_id,
    )
    return [StoredKey(**dict(row)) for row in rows]
