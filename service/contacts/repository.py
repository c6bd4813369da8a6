"""SQL for contacts and their types. Every statement names the tenant and the account."""

from __future__ import annotations

from typing import Any

import asyncpg

from service.platform.db import Conn

CONTACT_FIELDS = (
    "label", "email", "first_name", "middle_name_or_initial", "last_name_or_surname", "company_or_organization",
    "fax_number", "phone_home", "phone_mobile", "phone_work", "address1", "address2", "address3", "address4",
    "city_or_town", "state_or_province", "postal_or_zip_code", "country_code", "address_type", "is_validated",
)
_COLUMN_LIST = ", ".join(CONTACT_FIELDS)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(4, 4 + len(CONTACT_FIELDS)))
_ASSIGNMENTS = ", ".join(f"{name} = ${i}" for i, name in enumerate(CONTACT_FIELDS, start=4))
_ACTOR = f"${4 + len(CONTACT_FIELDS)}"
_SELECT = """SELECT c.*, coalesce(
                 (SELECT jsonb_agg(jsonb_build_object('name', t.name, 'isPrimary', t.is_primary) ORDER BY t.name)
                  FROM customer_contact_types t WHERE t.tenant_id = c.tenant_id AND t.contact_id = c.id), '[]'::jsonb) AS types
             FROM customer_contacts c WHERE c.tenant_id = $1 AND c.account_id = $2"""


async def insert(conn: Conn, tenant_id: int, account_id: int, fields: dict[str, Any], actor: str) -> int:
    return await conn.fetchval(
        f"""INSERT INTO customer_contacts (tenant_id, account_id, created_by, {_COLUMN_LIST}, updated_by)
            VALUES ($1, $2, $3, {_PLACEHOLDERS}, $3) RETURNING id""",
        tenant_id, account_id, actor, *(fields[name] for name in CONTACT_FIELDS),
    )


async def update(conn: Conn, tenant_id: int, account_id: int, contact_id: int, fields: dict[str, Any], actor: str) -> bool:
    status = await conn.execute(
        f"""UPDATE customer_contacts SET {_ASSIGNMENTS}, updated_by = {_ACTOR}, updated_at = now()
            WHERE tenant_id = $1 AND account_id = $2 AND id = $3""",
        tenant_id, account_id, contact_id, *(fields[name] for name in CONTACT_FIELDS), actor,
    )
    return status != "UPDATE 0"


async def replace_types(conn: Conn, tenant_id: int, account_id: int, contact_id: int, types: list[tuple[str, bool]]) -> None:
    await conn.execute(
        "DELETE FROM customer_contact_types WHERE tenant_id = $1 AND account_id = $2 AND contact_id = $3",
        tenant_id, account_id, contact_id,
    )
    for name, is_primary in types:
        if is_primary:
            # The newest primary wins: the previous primary of this type stops being primary.
            await conn.execute(
                """UPDATE customer_contact_types SET is_primary = false
                   WHERE tenant_id = $1 AND account_id = $2 AND name = $3 AND is_primary""",
                tenant_id, account_id, name,
            )
        await conn.execute(
            """INSERT INTO customer_contact_types (tenant_id, account_id, contact_id, name, is_primary)
               VALUES ($1, $2, $3, $4, $5)""",
            tenant_id, account_id, contact_id, name, is_primary,
        )


async def list_for_account(conn: Conn, tenant_id: int, account_id: int, offset: int = 0, limit: int = 1000) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"{_SELECT} ORDER BY c.id OFFSET $3 LIMIT $4",
        tenant_id, account_id, offset, limit,
    )


async def count_for_account(conn: Conn, tenant_id: int, account_id: int) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM customer_contacts WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )


async def get(conn: Conn, tenant_id: int, account_id: int, contact_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"{_SELECT} AND c.id = $3",
        tenant_id, account_id, contact_id,
    )


async def delete(conn: Conn, tenant_id: int, account_id: int, contact_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM customer_contacts WHERE tenant_id = $1 AND account_id = $2 AND id = $3", tenant_id, account_id, contact_id
    )
    return status != "DELETE 0"
