"""SQL for customer accounts and logins. Every statement is scoped by tenant and customer set."""

from __future__ import annotations

from typing import Any

import asyncpg

from service.accounts.filters import SqlFilter
from service.accounts.records import Account, Login, LoginCandidate
from service.platform.db import Conn

# The columns an insert or update writes, in the order of their parameters.
WRITTEN_COLUMNS = (
    "email_address",
    "email_normalized",
    "user_name",
    "user_name_normalized",
    "first_name",
    "last_name",
    "locale_code",
    "company_or_organization",
    "tax_exempt",
    "tax_id",
    "external_id",
    "accepts_marketing",
    "account_type",
    "is_active",
    "customer_since_date",
)
# Every account read, here and by bulk readers (imports): its columns, and the joins they come from.
ACCOUNT_COLUMNS = """a.id, a.email_address, a.user_name, a.first_name, a.last_name, a.locale_code,
       a.company_or_organization, a.tax_exempt, a.tax_id, a.external_id, a.accepts_marketing, a.account_type,
       a.is_active, a.customer_since_date, a.last_2fa_date, a.created_at, a.created_by, a.updated_at, a.updated_by,
       c.code AS customer_set_code, l.user_id, coalesce(l.is_locked, false) AS is_locked"""
ACCOUNT_FROM = """FROM customer_accounts a
           JOIN customer_sets c ON c.tenant_id = a.tenant_id AND c.id = a.customer_set_id
           LEFT JOIN customer_logins l ON l.tenant_id = a.tenant_id AND l.account_id = a.id"""
_SELECT = f"SELECT {ACCOUNT_COLUMNS} {ACCOUNT_FROM}"
# For logins only: the password hash never leaves the capabilities.
_SELECT_FOR_LOGIN = f"""SELECT {ACCOUNT_COLUMNS}, l.password_hash, l.last_region,
       EXISTS (SELECT 1 FROM customer_authenticators m WHERE m.tenant_id = a.tenant_id AND m.account_id = a.id
               AND m.confirmed_at IS NOT NULL) AS has_authenticator
    {ACCOUNT_FROM}"""
_LOGIN_COLUMNS = """account_id, user_id, is_locked, is_password_change_required, last_password_change_on,
                    last_locked_on, last_login_on, created_at, updated_at"""


def account_from(row: asyncpg.Record) -> Account:
    values = dict(row)
    for internal in ("password_hash", "last_region", "has_authenticator"):
        values.pop(internal, None)
    return Account(**values)


def _candidate(row: asyncpg.Record | None) -> LoginCandidate | None:
    if row is None:
        return None
    return LoginCandidate(
        account=account_from(row),
        password_hash=row["password_hash"],
        last_region=row["last_region"],
        has_authenticator=row["has_authenticator"],
    )


def _written(fields: dict[str, Any]) -> list[Any]:
    return [fields[name] for name in WRITTEN_COLUMNS]


# How an account is looked up by name. Each lookup runs only the conditions its arguments need, never
# `($n IS NULL OR …)`: PostgreSQL caches one generic plan per prepared statement, and for such a catch-all it is a
# sequential scan of the tenant's accounts (23 ms at 200,000 of them), so it either plans every login afresh or, once
# the plan flips, scans on every login.
_MATCHES = {
    "email": "a.email_normalized = {}",
    "user_name": "a.user_name_normalized = {}",
    "login_name": "(a.email_normalized = {0} OR a.user_name_normalized = {0})",  # as a login form accepts: either
    "account_id": "a.id = {}",
}


async def _find_one(
    conn: Conn, select: str, tenant_id: int, customer_set_id: int, wanted: dict[str, Any]
) -> asyncpg.Record | None:
    """The first row of `select` matching the given ones of `wanted` (named as in `_MATCHES`) in the tenant's
    customer set, an email matching a login name before a user name matching it; None when none is given."""
    given = {name: value for name, value in wanted.items() if value is not None}
    if not given:
        return None
    numbers = {name: f"${number}" for number, name in enumerate(given, start=3)}
    conditions = [_MATCHES[name].format(numbers[name]) for name in given]
    by_login_name = numbers.get("login_name")
    order = f"ORDER BY (a.email_normalized = {by_login_name}) DESC NULLS LAST " if by_login_name else ""
    clause = " AND ".join(["a.tenant_id = $1", "a.customer_set_id = $2", *conditions])
    row: asyncpg.Record | None = await conn.fetchrow(
        f"{select} WHERE {clause} {order}LIMIT 1", tenant_id, customer_set_id, *given.values()
    )
    return row


async def find_for_login(
    conn: Conn, tenant_id: int, customer_set_id: int, *, login_name: str | None, account_id: int | None
) -> LoginCandidate | None:
    """An account with its login, by email or user name (either, as a login form accepts) or by id."""
    wanted = {"login_name": login_name, "account_id": account_id}
    return _candidate(await _find_one(conn, _SELECT_FOR_LOGIN, tenant_id, customer_set_id, wanted))


async def insert_account(conn: Conn, tenant_id: int, customer_set_id: int, fields: dict[str, Any], actor: str) -> int:
    # customerSinceDate defaults to now, to the millisecond Kibo shows: a GET→PUT round trip keeps it equal.
    account_id: int = await conn.fetchval(
        """INSERT INTO customer_accounts (tenant_id, customer_set_id, email_address, email_normalized, user_name,
               user_name_normalized, first_name, last_name, locale_code, company_or_organization, tax_exempt, tax_id,
               external_id, accepts_marketing, account_type, is_active, customer_since_date, created_by, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                   coalesce($17, date_trunc('milliseconds', now())), $18, $18)
           RETURNING id""",
        tenant_id,
        customer_set_id,
        *_written(fields),
        actor,
    )
    return account_id


async def update_account(
    conn: Conn, tenant_id: int, customer_set_id: int, account_id: int, fields: dict[str, Any], actor: str
) -> bool:
    status = await conn.execute(
        """UPDATE customer_accounts SET email_address = $4, email_normalized = $5, user_name = $6,
               user_name_normalized = $7, first_name = $8, last_name = $9, locale_code = $10,
               company_or_organization = $11, tax_exempt = $12, tax_id = $13, external_id = $14,
               accepts_marketing = $15, account_type = $16, is_active = $17,
               customer_since_date = coalesce($18, customer_since_date), updated_by = $19, updated_at = now()
           WHERE tenant_id = $1 AND customer_set_id = $2 AND id = $3""",
        tenant_id,
        customer_set_id,
        account_id,
        *_written(fields),
        actor,
    )
    return status != "UPDATE 0"


async def get_account(conn: Conn, tenant_id: int, customer_set_id: int, account_id: int) -> Account | None:
    row = await conn.fetchrow(
        f"{_SELECT} WHERE a.tenant_id = $1 AND a.customer_set_id = $2 AND a.id = $3",
        tenant_id,
        customer_set_id,
        account_id,
    )
    return account_from(row) if row is not None else None


async def lock_account(conn: Conn, tenant_id: int, customer_set_id: int, account_id: int) -> bool:
    """Lock the account's row until the transaction ends; False when there is no such account."""
    locked = await conn.fetchval(
        """SELECT id FROM customer_accounts WHERE tenant_id = $1 AND customer_set_id = $2 AND id = $3
           FOR NO KEY UPDATE""",
        tenant_id,
        customer_set_id,
        account_id,
    )
    return locked is not None


async def list_accounts(
    conn: Conn, tenant_id: int, customer_set_id: int, where: SqlFilter, order: str, offset: int, limit: int
) -> tuple[list[Account], int]:
    # `where.sql` and `order` are assembled only from fixed fragments in filters.py; values are bound.
    base = f"""FROM customer_accounts a LEFT JOIN customer_logins l ON l.tenant_id = a.tenant_id AND l.account_id = a.id
               WHERE a.tenant_id = $1 AND a.customer_set_id = $2 AND {where.sql}"""
    total: int = await conn.fetchval(f"SELECT count(*) {base}", tenant_id, customer_set_id, *where.values)
    n = len(where.values)
    rows = await conn.fetch(
        f"""{_SELECT} WHERE a.id IN (SELECT a.id {base} ORDER BY {order} OFFSET ${n + 3} LIMIT ${n + 4})
            ORDER BY {order}""",
        tenant_id,
        customer_set_id,
        *where.values,
        offset,
        limit,
    )
    return [account_from(row) for row in rows], total


async def delete_account(conn: Conn, tenant_id: int, customer_set_id: int, account_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM customer_accounts WHERE tenant_id = $1 AND customer_set_id = $2 AND id = $3",
        tenant_id,
        customer_set_id,
        account_id,
    )
    return status != "DELETE 0"


async def find_account_by(
    conn: Conn,
    tenant_id: int,
    customer_set_id: int,
    *,
    email: str | None = None,
    user_name: str | None = None,
    login_name: str | None = None,
) -> Account | None:
    """By email, by user name, or by `login_name` matching either (as a login form accepts; email first); None
    when none is given."""
    wanted = {"email": email, "user_name": user_name, "login_name": login_name}
    row = await _find_one(conn, _SELECT, tenant_id, customer_set_id, wanted)
    return account_from(row) if row is not None else None


async def insert_login(conn: Conn, tenant_id: int, account_id: int, user_id: str, password_hash: str) -> None:
    await conn.execute(
        "INSERT INTO customer_logins (tenant_id, account_id, user_id, password_hash) VALUES ($1, $2, $3, $4)",
        tenant_id,
        account_id,
        user_id,
        password_hash,
    )


async def get_login(conn: Conn, tenant_id: int, account_id: int) -> Login | None:
    row = await conn.fetchrow(
        f"SELECT {_LOGIN_COLUMNS} FROM customer_logins WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
    return Login(**dict(row)) if row is not None else None


async def get_password_hash(conn: Conn, tenant_id: int, account_id: int) -> str | None:
    password_hash: str | None = await conn.fetchval(
        "SELECT password_hash FROM customer_logins WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
    return password_hash


async def set_password(conn: Conn, tenant_id: int, account_id: int, password_hash: str, unlock: bool) -> None:
    await conn.execute(
        """UPDATE customer_logins SET password_hash = $3, last_password_change_on = now(),
               is_password_change_required = false, updated_at = now(),
               is_locked = CASE WHEN $4 THEN false ELSE is_locked END
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id,
        account_id,
        password_hash,
        unlock,
    )


async def set_locked(conn: Conn, tenant_id: int, account_id: int, locked: bool) -> None:
    await conn.execute(
        """UPDATE customer_logins SET is_locked = $3, updated_at = now(),
               last_locked_on = CASE WHEN $3 THEN now() ELSE last_locked_on END
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id,
        account_id,
        locked,
    )


async def set_password_change_required(conn: Conn, tenant_id: int, account_id: int, required: bool) -> None:
    await conn.execute(
        """UPDATE customer_logins SET is_password_change_required = $3, updated_at = now()
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id,
        account_id,
        required,
    )


async def touch_account(conn: Conn, tenant_id: int, account_id: int, actor: str) -> None:
    await conn.execute(
        "UPDATE customer_accounts SET updated_at = now(), updated_by = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        account_id,
        actor,
    )


async def replace_password_hash(conn: Conn, tenant_id: int, account_id: int, old_hash: str, new_hash: str) -> None:
    """Compare-and-set: `new_hash` only where the login still holds `old_hash`. One statement, so two
    parallel callers cannot both see the old hash; the second finds the first's and changes nothing."""
    await conn.execute(
        """UPDATE customer_logins SET password_hash = $4
           WHERE tenant_id = $1 AND account_id = $2 AND password_hash = $3""",
        tenant_id,
        account_id,
        old_hash,
        new_hash,
    )


async def mark_locked_out(conn: Conn, tenant_id: int, account_id: int) -> None:
    await conn.execute(
        "UPDATE customer_logins SET last_locked_on = now() WHERE tenant_id = $1 AND account_id = $2",
        tenant_id,
        account_id,
    )
