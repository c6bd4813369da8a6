"""SQL for tenants, customer sets and sites. Every statement on a tenant's rows names its tenant."""

from __future__ import annotations

from typing import Any

import asyncpg

from service.platform.db import Conn, Connection, returned_row
from service.tenants.models import CustomerSet, Site, SiteScope, Tenant

_TENANT = """SELECT t.id, t.name, t.created_at, t.updated_at, s.id AS default_site_id
             FROM tenants t JOIN sites s ON s.tenant_id = t.id AND s.is_default"""
_SITE = """SELECT s.id, s.tenant_id, s.code, s.name, s.customer_set_id, c.code AS customer_set_code,
                  s.is_default, s.created_at, s.updated_at
           FROM sites s JOIN customer_sets c ON c.tenant_id = s.tenant_id AND c.id = s.customer_set_id"""
_CUSTOMER_SET = "id, tenant_id, code, name, created_at, updated_at"


def _site(row: asyncpg.Record | None) -> Site | None:
    return Site(**dict(row)) if row is not None else None


async def insert_tenant(conn: Conn, name: str, settings: dict[str, Any]) -> int:
    value: int = await conn.fetchval(
        "INSERT INTO tenants (name, settings) VALUES ($1, $2) RETURNING id", name, settings
    )
    return value


async def get_tenant(conn: Conn, tenant_id: int) -> Tenant | None:
    row = await conn.fetchrow(f"{_TENANT} WHERE t.id = $1", tenant_id)
    return Tenant(**dict(row)) if row is not None else None


async def list_tenants(conn: Conn, only_id: int | None, offset: int, limit: int) -> tuple[list[Tenant], int]:
    rows = await conn.fetch(
        f"{_TENANT} WHERE ($1::int IS NULL OR t.id = $1) ORDER BY t.id OFFSET $2 LIMIT $3", only_id, offset, limit
    )
    total: int = await conn.fetchval("SELECT count(*) FROM tenants WHERE ($1::int IS NULL OR id = $1)", only_id)
    return [Tenant(**dict(row)) for row in rows], total


async def rename_tenant(conn: Conn, tenant_id: int, name: str) -> bool:
    status = await conn.execute("UPDATE tenants SET name = $2, updated_at = now() WHERE id = $1", tenant_id, name)
    return status != "UPDATE 0"


async def delete_tenant(conn: Conn, tenant_id: int) -> bool:
    return await conn.execute("DELETE FROM tenants WHERE id = $1", tenant_id) != "DELETE 0"


async def get_settings(conn: Conn, tenant_id: int) -> dict[str, Any] | None:
    value: dict[str, Any] | None = await conn.fetchval("SELECT settings FROM tenants WHERE id = $1", tenant_id)
    return value


async def put_settings(conn: Conn, tenant_id: int, settings: dict[str, Any]) -> bool:
    status = await conn.execute(
        "UPDATE tenants SET settings = $2, updated_at = now() WHERE id = $1", tenant_id, settings
    )
    return status != "UPDATE 0"


async def host_names_of_others(conn: Connection, tenant_id: int, host_names: list[str]) -> list[str]:
    """Which of these host names another tenant lists. Serialised, so two tenants cannot claim one at once."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('gatehouse.tenant_host_names'))")
    rows = await conn.fetch(
        """SELECT DISTINCT h.name FROM tenants t,
               jsonb_array_elements_text(coalesce(t.settings -> 'hostNames', '[]'::jsonb)) AS h(name)
           WHERE t.id <> $1 AND h.name = ANY($2::text[]) ORDER BY h.name""",
        tenant_id,
        host_names,
    )
    return [row["name"] for row in rows]


async def insert_customer_set(conn: Conn, tenant_id: int, code: str, name: str) -> CustomerSet:
    row = await conn.fetchrow(
        f"INSERT INTO customer_sets (tenant_id, code, name) VALUES ($1, $2, $3) RETURNING {_CUSTOMER_SET}",
        tenant_id,
        code,
        name,
    )
    return CustomerSet(**dict(returned_row(row)))


async def list_customer_sets(conn: Conn, tenant_id: int) -> list[CustomerSet]:
    rows = await conn.fetch(f"SELECT {_CUSTOMER_SET} FROM customer_sets WHERE tenant_id = $1 ORDER BY id", tenant_id)
    return [CustomerSet(**dict(row)) for row in rows]


async def get_customer_set_by_code(conn: Conn, tenant_id: int, code: str) -> CustomerSet | None:
    row = await conn.fetchrow(
        f"SELECT {_CUSTOMER_SET} FROM customer_sets WHERE tenant_id = $1 AND code = $2", tenant_id, code
    )
    return CustomerSet(**dict(row)) if row is not None else None


async def rename_customer_set(conn: Conn, tenant_id: int, code: str, name: str) -> CustomerSet | None:
    row = await conn.fetchrow(
        f"""UPDATE customer_sets SET name = $3, updated_at = now() WHERE tenant_id = $1 AND code = $2
            RETURNING {_CUSTOMER_SET}""",
        tenant_id,
        code,
        name,
    )
    return CustomerSet(**dict(row)) if row is not None else None


async def delete_customer_set(conn: Conn, tenant_id: int, code: str) -> bool:
    return (
        await conn.execute("DELETE FROM customer_sets WHERE tenant_id = $1 AND code = $2", tenant_id, code)
        != "DELETE 0"
    )


async def customer_set_in_use(conn: Conn, tenant_id: int, code: str) -> bool:
    value: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM sites s
                          JOIN customer_sets c ON c.tenant_id = s.tenant_id AND c.id = s.customer_set_id
                          WHERE s.tenant_id = $1 AND c.code = $2)""",
        tenant_id,
        code,
    )
    return value


async def insert_site(conn: Conn, tenant_id: int, code: str, name: str, customer_set_id: int, is_default: bool) -> int:
    value: int = await conn.fetchval(
        """INSERT INTO sites (tenant_id, code, name, customer_set_id, is_default) VALUES ($1, $2, $3, $4, $5)
           RETURNING id""",
        tenant_id,
        code,
        name,
        customer_set_id,
        is_default,
    )
    return value


async def get_site(conn: Conn, tenant_id: int, site_id: int) -> Site | None:
    return _site(await conn.fetchrow(f"{_SITE} WHERE s.tenant_id = $1 AND s.id = $2", tenant_id, site_id))


async def get_default_site(conn: Conn, tenant_id: int) -> Site | None:
    return _site(await conn.fetchrow(f"{_SITE} WHERE s.tenant_id = $1 AND s.is_default", tenant_id))


async def list_sites(conn: Conn, tenant_id: int) -> list[Site]:
    return [Site(**dict(row)) for row in await conn.fetch(f"{_SITE} WHERE s.tenant_id = $1 ORDER BY s.id", tenant_id)]


async def rename_site(conn: Conn, tenant_id: int, site_id: int, name: str) -> None:
    await conn.execute(
        "UPDATE sites SET name = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2", tenant_id, site_id, name
    )


async def make_default_site(conn: Conn, tenant_id: int, site_id: int) -> None:
    await conn.execute(
        "UPDATE sites SET is_default = false, updated_at = now() WHERE tenant_id = $1 AND is_default AND id <> $2",
        tenant_id,
        site_id,
    )
    await conn.execute(
        "UPDATE sites SET is_default = true, updated_at = now() WHERE tenant_id = $1 AND id = $2", tenant_id, site_id
    )


async def delete_site(conn: Conn, tenant_id: int, site_id: int) -> bool:
    return (
        await conn.execute("DELETE FROM sites WHERE tenant_id = $1 AND id = $2 AND NOT is_default", tenant_id, site_id)
        != "DELETE 0"
    )


async def get_scope(conn: Conn, tenant_id: int, site_id: int | None) -> SiteScope | None:
    """A site (the default one when `site_id` is None) with its customer set's code and the tenant's settings."""
    row = await conn.fetchrow(
        """SELECT s.id AS site_id, s.customer_set_id, c.code AS customer_set_code, t.settings FROM sites s
           JOIN customer_sets c ON c.tenant_id = s.tenant_id AND c.id = s.customer_set_id
           JOIN tenants t ON t.id = s.tenant_id
           WHERE s.tenant_id = $1 AND (s.id = $2 OR ($2::int IS NULL AND s.is_default))""",
        tenant_id,
        site_id,
    )
    return SiteScope(**dict(row)) if row is not None else None


async def any_tenant_exists(conn: Conn) -> bool:
    value: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tenants)")
    return value


async def tenant_exists(conn: Conn, tenant_id: int) -> bool:
    value: bool = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)", tenant_id)
    return value


async def share_tenant(conn: Connection, tenant_id: int) -> None:
    """A key-share lock on the tenant's row, for the rest of the transaction: its deletion waits, or is waited for."""
    await conn.execute("SELECT 1 FROM tenants WHERE id = $1 FOR KEY SHARE", tenant_id)


async def lock_tenant(conn: Connection, tenant_id: int) -> bool:
    """Serialise changes to one tenant's sites (the default-site invariant) inside a transaction."""
    return await conn.fetchval("SELECT true FROM tenants WHERE id = $1 FOR UPDATE", tenant_id) is not None


async def application_ids(conn: Conn, tenant_id: int) -> list[int]:
    return [row["id"] for row in await conn.fetch("SELECT id FROM applications WHERE tenant_id = $1", tenant_id)]
