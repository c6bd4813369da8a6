"""SQL for applications. Every statement but the sign-in lookup by client id names its tenant."""

from __future__ import annotations

import asyncpg

from service.applications.models import Application, ClientSecret, StoredApplicationState
from service.platform.db import Conn, returned_row

_COLUMNS = "id, tenant_id, client_id, name, behaviors, is_enabled, created_at, updated_at"


def _application(row: asyncpg.Record) -> Application:
    return Application(**dict(row))


async def insert(
    conn: Conn, tenant_id: int, client_id: str, name: str, secret_hash: str, behaviors: list[str]
) -> Application:
    return _application(
        returned_row(
            await conn.fetchrow(
                f"""INSERT INTO applications (tenant_id, client_id, name, secret_hash, behaviors)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}""",
                tenant_id,
                client_id,
                name,
                secret_hash,
                behaviors,
            )
        )
    )


async def find_by_client_id(conn: Conn, client_id: str) -> ClientSecret | None:
    """Sign-in lookup: the client id is globally unique and tells us the tenant."""
    row = await conn.fetchrow(
        "SELECT id, tenant_id, secret_hash, is_enabled, generation FROM applications WHERE client_id = $1", client_id
    )
    return ClientSecret(**dict(row)) if row is not None else None


async def get_state(conn: Conn, application_id: int) -> StoredApplicationState | None:
    row = await conn.fetchrow(
        "SELECT tenant_id, client_id, behaviors, is_enabled, generation FROM applications WHERE id = $1",
        application_id,
    )
    return StoredApplicationState(**dict(row)) if row is not None else None


async def list_for_tenant(conn: Conn, tenant_id: int) -> list[Application]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM applications WHERE tenant_id = $1 ORDER BY id", tenant_id)
    return [_application(row) for row in rows]


async def get(conn: Conn, tenant_id: int, application_id: int) -> Application | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM applications WHERE tenant_id = $1 AND id = $2", tenant_id, application_id
    )
    return _application(row) if row is not None else None


async def update(
    conn: Conn,
    tenant_id: int,
    application_id: int,
    name: str | None,
    behaviors: list[str] | None,
    is_enabled: bool | None,
) -> Application | None:
    # Disabling bumps the generation, so re-enabling later does not revive the tokens it ended.
    row = await conn.fetchrow(
        f"""UPDATE applications SET name = coalesce($3, name), behaviors = coalesce($4, behaviors),
                   is_enabled = coalesce($5, is_enabled),
                   generation = generation + CASE WHEN $5 IS FALSE THEN 1 ELSE 0 END, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
        tenant_id,
        application_id,
        name,
        behaviors,
        is_enabled,
    )
    return _application(row) if row is not None else None


async def set_secret(conn: Conn, tenant_id: int, application_id: int, secret_hash: str) -> Application | None:
    row = await conn.fetchrow(
        f"""UPDATE applications SET secret_hash = $3, generation = generation + 1, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
        tenant_id,
        application_id,
        secret_hash,
    )
    return _application(row) if row is not None else None


async def delete(conn: Conn, tenant_id: int, application_id: int) -> bool:
    return (
        await conn.execute("DELETE FROM applications WHERE tenant_id = $1 AND id = $2", tenant_id, application_id)
        != "DELETE 0"
    )
