"""SQL for admin users. Tenant admins are always looked up together with their tenant id."""

from __future__ import annotations

import asyncpg

from service.admins.models import AdminCredentials, AdminUser
from service.platform.db import Conn, returned_row

_COLUMNS = "id, tenant_id, username, role, is_enabled, created_at, updated_at"


def _admin(row: asyncpg.Record | None) -> AdminUser | None:
    return AdminUser(**dict(row)) if row is not None else None


async def find_for_login(conn: Conn, tenant_id: int | None, username: str) -> AdminCredentials | None:
    row = await conn.fetchrow(
        """SELECT id, tenant_id, role, password_hash, is_enabled FROM admin_users
           WHERE coalesce(tenant_id, 0) = coalesce($1::int, 0) AND lower(username) = lower($2)""",
        tenant_id,
        username,
    )
    return AdminCredentials(**dict(row)) if row is not None else None


async def get_active(conn: Conn, admin_id: int) -> AdminUser | None:
    return _admin(await conn.fetchrow(f"SELECT {_COLUMNS} FROM admin_users WHERE id = $1 AND is_enabled", admin_id))


async def insert(conn: Conn, tenant_id: int | None, username: str, password_hash: str, role: str) -> AdminUser:
    row = returned_row(
        await conn.fetchrow(
            f"""INSERT INTO admin_users (tenant_id, username, password_hash, role) VALUES ($1, $2, $3, $4)
            RETURNING {_COLUMNS}""",
            tenant_id,
            username,
            password_hash,
            role,
        )
    )
    return AdminUser(**dict(row))


async def list_for_tenant(conn: Conn, tenant_id: int) -> list[AdminUser]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM admin_users WHERE tenant_id = $1 ORDER BY id", tenant_id)
    return [AdminUser(**dict(row)) for row in rows]


async def get_for_tenant(conn: Conn, tenant_id: int, admin_id: int) -> AdminUser | None:
    return _admin(
        await conn.fetchrow(f"SELECT {_COLUMNS} FROM admin_users WHERE tenant_id = $1 AND id = $2", tenant_id, admin_id)
    )


async def update(
    conn: Conn, tenant_id: int, admin_id: int, password_hash: str | None, role: str | None, is_enabled: bool | None
) -> AdminUser | None:
    row = await conn.fetchrow(
        f"""UPDATE admin_users SET password_hash = coalesce($3, password_hash), role = coalesce($4, role),
                   is_enabled = coalesce($5, is_enabled), updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING {_COLUMNS}""",
        tenant_id,
        admin_id,
        password_hash,
        role,
        is_enabled,
    )
    return _admin(row)


async def delete(conn: Conn, tenant_id: int, admin_id: int) -> bool:
    return (
        await conn.execute("DELETE FROM admin_users WHERE tenant_id = $1 AND id = $2", tenant_id, admin_id)
        != "DELETE 0"
    )


async def any_exists(conn: Conn) -> bool:
    value: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM admin_users)")
    return value


async def platform_admin_exists(conn: Conn) -> bool:
    value: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM admin_users WHERE tenant_id IS NULL)")
    return value
