"""SQL for customer accounts and logins. Every statement is scoped by tenant and customer set."""

from __future__ import annotations

from typing import Any

import asyncpg

from service.accounts.filters import SqlFilter

from service.platform.db import Conn

ACCOUNT_FIELDS = (
    "email_address", "email_normalized", "user_name", "user_name_normalized", "first_name", "last_name",
    "locale_code", "company_or_organization", "tax_exempt", "tax_id", "external_id", "accepts_marketing",
    "account_type",
)
_SELECT = """SELECT a.*, c.code AS customer_set_code, l.user_id, l.is_locked
             FROM customer_accounts a
             JOIN customer_sets c ON c.tenant_id = a.tenant_id AND c.id = a.customer_set_id
             LEFT JOIN customer_logins l ON l.tenant_id = a.tenant_id AND l.account_id = a.id"""


# For logins only: the password hash never leaves the auth service.
_SELECT_FOR_LOGIN = _SELECT.replace(
    "l.user_id, l.is_locked",
    """l.user_id, l.is_locked, l.password_hash, l.last_region,
       EXISTS (SELECT 1 FROM customer_authenticators m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id
               AND m.confirmed_at IS NOT NULL) AS has_authenticator""",
)


async def find_for_login(conn: Conn, tenant_id: int, customer_set_id: int, *, login_name: str | None,
                         account_id: int | None) -> asyncpg.Record | None:
    """An account with its login, by email or user name (either, as a login form accepts) or by id."""
    return await conn.fetchrow(
        f"""{_SELECT_FOR_LOGIN} WHERE a.tenant_id = $1 AND a.customer_set_id = $2
               AND ($3::text IS NULL OR a.email_normalized = $3 OR a.user_name_normalized = $3)
               AND ($4::int IS NULL OR a.id = $4)
            ORDER BY (a.email_normalized = $3) DESC NULLS LAST LIMIT 1""",
        tenant_id, customer_set_id, login_name, account_id,
    )


async def insert_account(conn: Conn, tenant_id: int, customer_set_id: int, fields: dict[str, Any], actor: str) -> int:
    return await conn.fetchval(
        """INSERT INTO customer_accounts (tenant_id, customer_set_id, email_address, email_normalized, user_name,
               user_name_normalized, first_name, last_name, locale_code, company_or_organization, tax_exempt, tax_id,
               external_id, accepts_marketing, account_type, created_by, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id""",
        tenant_id, customer_set_id, *(fields[name] for name in ACCOUNT_FIELDS), actor,
    )


async def update_account(conn: Conn, tenant_id: int, customer_set_id: int, account_id: int, fields: dict[str, Any], actor: str) -> bool:
    status = await conn.execute(
        """UPDATE customer_accounts SET email_address = $4, email_normalized = $5, user_name = $6,
               user_name_normalized = $7, first_name = $8, last_name = $9, locale_code = $10,
               company_or_organization = $11, tax_exempt = $12, tax_id = $13, external_id = $14,
               accepts_marketing = $15, account_type = $16, updated_by = $17, updated_at = now()
           WHERE tenant_id = $1 AND customer_set_id = $2 AND id = $3""",
        tenant_id, customer_set_id, account_id, *(fields[name] for name in ACCOUNT_FIELDS), actor,
    )
    return status != "UPDATE 0"


async def get_account(conn: Conn, tenant_id: int, customer_set_id: int, account_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"{_SELECT} WHERE a.tenant_id = $1 AND a.customer_set_id = $2 AND a.id = $3", tenant_id, customer_set_id, account_id
    )


async def list_accounts(
    conn: Conn, tenant_id: int, customer_set_id: int, where: SqlFilter, order: str, offset: int, limit: int
) -> tuple[list[asyncpg.Record], int]:
    # `where.sql` and `order` are assembled only from fixed fragments in filters.py; values are bound.
    base = f"FROM customer_accounts a LEFT JOIN customer_logins l ON l.tenant_id = a.tenant_id AND l.account_id = a.id " \
           f"WHERE a.tenant_id = $1 AND a.customer_set_id = $2 AND {where.sql}"
    total = await conn.fetchval(f"SELECT count(*) {base}", tenant_id, customer_set_id, *where.values)
    n = len(where.values)
    rows = await conn.fetch(
        f"""{_SELECT} WHERE a.id IN (SELECT a.id {base} ORDER BY {order} OFFSET ${n + 3} LIMIT ${n + 4})
            ORDER BY {order}""",
        tenant_id, customer_set_id, *where.values, offset, limit,
    )
    return rows, total


async def delete_account(conn: Conn, tenant_id: int, customer_set_id: int, account_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM customer_accounts WHERE tenant_id = $1 AND customer_set_id = $2 AND id = $3",
        tenant_id, customer_set_id, account_id,
    )
    return status != "DELETE 0"


async def find_account_by_login_name(conn: Conn, tenant_id: int, customer_set_id: int, normalized: str) -> asyncpg.Record | None:
    """By email or user name, as a login form accepts either."""
    return await conn.fetchrow(
        f"""{_SELECT} WHERE a.tenant_id = $1 AND a.customer_set_id = $2
               AND (a.email_normalized = $3 OR a.user_name_normalized = $3)
            ORDER BY (a.email_normalized = $3) DESC LIMIT 1""",
        tenant_id, customer_set_id, normalized,
    )


async def find_account_by(conn: Conn, tenant_id: int, customer_set_id: int, *, email: str | None = None,
                          user_name: str | None = None) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""{_SELECT} WHERE a.tenant_id = $1 AND a.customer_set_id = $2
               AND ($3::text IS NULL OR a.email_normalized = $3) AND ($4::text IS NULL OR a.user_name_normalized = $4)""",
        tenant_id, customer_set_id, email, user_name,
    )


async def insert_login(conn: Conn, tenant_id: int, account_id: int, user_id: str, password_hash: str) -> None:
    await conn.execute(
        "INSERT INTO customer_logins (tenant_id, account_id, user_id, password_hash) VALUES ($1, $2, $3, $4)",
        tenant_id, account_id, user_id, password_hash,
    )


async def get_login(conn: Conn, tenant_id: int, account_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM customer_logins WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )


async def set_password(conn: Conn, tenant_id: int, account_id: int, password_hash: str, unlock: bool) -> None:
    await conn.execute(
        """UPDATE customer_logins SET password_hash = $3, last_password_change_on = now(),
               is_password_change_required = false, updated_at = now(),
               is_locked = CASE WHEN $4 THEN false ELSE is_locked END
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id, account_id, password_hash, unlock,
    )


async def set_locked(conn: Conn, tenant_id: int, account_id: int, locked: bool) -> None:
    await conn.execute(
        """UPDATE customer_logins SET is_locked = $3, updated_at = now(),
               last_locked_on = CASE WHEN $3 THEN now() ELSE last_locked_on END
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id, account_id, locked,
    )


async def set_password_change_required(conn: Conn, tenant_id: int, account_id: int, required: bool) -> None:
    await conn.execute(
        """UPDATE customer_logins SET is_password_change_required = $3, updated_at = now()
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id, account_id, required,
    )


async def touch_account(conn: Conn, tenant_id: int, account_id: int, actor: str) -> None:
    await conn.execute(
        "UPDATE customer_accounts SET updated_at = now(), updated_by = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id, account_id, actor,
    )


async def record_login(conn: Conn, tenant_id: int, account_id: int, new_password_hash: str | None, region: str | None) -> None:
    """A successful login: its time and region, and the password re-hashed when the tenant's cost changed."""
    await conn.execute(
        """UPDATE customer_logins SET last_login_on = now(), password_hash = coalesce($3, password_hash),
               last_region = coalesce($4, last_region)
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id, account_id, new_password_hash, region,
    )


async def mark_locked_out(conn: Conn, tenant_id: int, account_id: int) -> None:
    await conn.execute(
        "UPDATE customer_logins SET last_locked_on = now() WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
