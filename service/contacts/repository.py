"""SQL for contacts and their types. Every statement names the tenant and the account."""

from __future__ import annotations

import asyncpg

from service.accounts.records import Contact, ContactFields, ContactType
from service.platform.db import Conn

FIELD_COLUMNS = tuple(ContactFields.__struct_fields__)
_FIELD_LIST = ", ".join(FIELD_COLUMNS)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(4, 4 + len(FIELD_COLUMNS)))
_ASSIGNMENTS = ", ".join(f"{name} = ${i}" for i, name in enumerate(FIELD_COLUMNS, start=4))
_ACTOR = f"${4 + len(FIELD_COLUMNS)}"
_SELECT = f"""SELECT c.id, c.account_id, {", ".join(f"c.{name}" for name in FIELD_COLUMNS)},
                 c.created_at, c.created_by, c.updated_at, c.updated_by, coalesce(
                 (SELECT jsonb_agg(jsonb_build_object('name', t.name, 'is_primary', t.is_primary) ORDER BY t.name)
                  FROM customer_contact_types t WHERE t.tenant_id = c.tenant_id AND t.contact_id = c.id),
                 '[]'::jsonb) AS types
             FROM customer_contacts c"""


def contact_from(row: asyncpg.Record) -> Contact:
    return Contact(
        id=row["id"],
        account_id=row["account_id"],
        fields=ContactFields(**{name: row[name] for name in FIELD_COLUMNS}),
        types=tuple(ContactType(**entry) for entry in row["types"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


async def insert(conn: Conn, tenant_id: int, account_id: int, fields: ContactFields, actor: str) -> int:
    contact_id: int = await conn.fetchval(
        f"""INSERT INTO customer_contacts (tenant_id, account_id, created_by, {_FIELD_LIST}, updated_by)
            VALUES ($1, $2, $3, {_PLACEHOLDERS}, $3) RETURNING id""",
        tenant_id,
        account_id,
        actor,
        *(getattr(fields, name) for name in FIELD_COLUMNS),
    )
    return contact_id


async def update(
    conn: Conn, tenant_id: int, account_id: int, contact_id: int, fields: ContactFields, actor: str
) -> bool:
    status = await conn.execute(
        f"""UPDATE customer_contacts SET {_ASSIGNMENTS}, updated_by = {_ACTOR}, updated_at = now()
            WHERE tenant_id = $1 AND account_id = $2 AND id = $3""",
        tenant_id,
        account_id,
        contact_id,
        *(getattr(fields, name) for name in FIELD_COLUMNS),
        actor,
    )
    return status != "UPDATE 0"


async def replace_types(
    conn: Conn, tenant_id: int, account_id: int, contact_id: int, types: list[tuple[str, bool]]
) -> None:
    await conn.execute(
        "DELETE FROM customer_contact_types WHERE tenant_id = $1 AND account_id = $2 AND contact_id = $3",
        tenant_id,
        account_id,
        contact_id,
    )
    for name, is_primary in types:
        if is_primary:
            # The newest primary wins: the previous primary of this type stops being primary.
            await conn.execute(
                """UPDATE customer_contact_types SET is_primary = false
                   WHERE tenant_id = $1 AND account_id = $2 AND name = $3 AND is_primary""",
                tenant_id,
                account_id,
                name,
            )
        await conn.execute(
            """INSERT INTO customer_contact_types (tenant_id, account_id, contact_id, name, is_primary)
               VALUES ($1, $2, $3, $4, $5)""",
            tenant_id,
            account_id,
            contact_id,
            name,
            is_primary,
        )


async def list_for_account(
    conn: Conn, tenant_id: int, account_id: int, offset: int = 0, limit: int = 1000
) -> list[Contact]:
    rows = await conn.fetch(
        f"{_SELECT} WHERE c.tenant_id = $1 AND c.account_id = $2 ORDER BY c.id OFFSET $3 LIMIT $4",
        tenant_id,
        account_id,
        offset,
        limit,
    )
    return [contact_from(row) for row in rows]


async def list_for_accounts(conn: Conn, tenant_id: int, account_ids: list[int]) -> dict[int, list[Contact]]:
    """The contacts of several accounts in one query, by account."""
    rows = await conn.fetch(
        f"{_SELECT} WHERE c.tenant_id = $1 AND c.account_id = ANY($2::int[]) ORDER BY c.account_id, c.id",
        tenant_id,
        account_ids,
    )
    by_account: dict[int, list[Contact]] = {account_id: [] for account_id in account_ids}
    for row in rows:
        by_account[row["account_id"]].append(contact_from(row))
    return by_account


async def count_for_account(conn: Conn, tenant_id: int, account_id: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM customer_contacts WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
    return count


async def get(conn: Conn, tenant_id: int, account_id: int, contact_id: int) -> Contact | None:
    row = await conn.fetchrow(
        f"{_SELECT} WHERE c.tenant_id = $1 AND c.account_id = $2 AND c.id = $3", tenant_id, account_id, contact_id
    )
    return contact_from(row) if row is not None else None


async def delete(conn: Conn, tenant_id: int, account_id: int, contact_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM customer_contacts WHERE tenant_id = $1 AND account_id = $2 AND id = $3",
        tenant_id,
        account_id,
        contact_id,
    )
    return status != "DELETE 0"
