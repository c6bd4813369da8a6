"""SQL for writing accounts in batches: a few statements for a whole batch, never one round trip per account.

New rows go in by COPY with ids drawn beforehand from their tables' sequences, so that children (contacts,
types, logins, Magento's rows, audit events) can be written by COPY too. Updates go through a temporary table of
the import's own connection. Every statement names the tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from service.accounts.records import Account, Contact
from service.accounts.repository import ACCOUNT_COLUMNS, ACCOUNT_FROM, WRITTEN_COLUMNS
from service.contacts import repository as contacts_repo
from service.imports.prepare import Context, Site
from service.magento.records import AddressExtras, CustomerExtras
from service.platform.db import Conn, Connection

Row = Sequence[Any]
E = TypeVar("E", bound=msgspec.Struct)
ACCOUNT_INSERT_COLUMNS = (
    "id", "tenant_id", "customer_set_id", *WRITTEN_COLUMNS, "created_by", "updated_by", "import_job_id"
)  # fmt: skip
ACCOUNT_UPDATE_COLUMNS = ("id", "tenant_id", *WRITTEN_COLUMNS, "updated_by")
CONTACT_COLUMNS = ("id", "tenant_id", "account_id", *contacts_repo.FIELD_COLUMNS, "created_by", "updated_by")
CONTACT_TYPE_COLUMNS = ("tenant_id", "account_id", "contact_id", "name", "is_primary")
ADDRESS_EXTRA_COLUMNS = ("tenant_id", "account_id", "contact_id", *AddressExtras.__struct_fields__)
CUSTOMER_EXTRA_COLUMNS = ("tenant_id", "account_id", *CustomerExtras.__struct_fields__)
LOGIN_COLUMNS = ("tenant_id", "account_id", "user_id", "password_hash")
AUDIT_COLUMNS = ("tenant_id", "actor", "action", "target_type", "target_id", "client_ip", "request_id", "details")
_STAGE = "import_account_changes"
# Match keys as prepare.py names them, to the column each is compared with.
_KEY_COLUMNS = {"e:": "a.email_normalized", "u:": "a.user_name_normalized", "x:": "a.external_id"}


async def prepare_connection(conn: Connection) -> None:
    """The import's own connection: jsonb in binary (COPY needs it) and the temporary table updates go through."""
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + msgspec.json.encode(value),  # jsonb's version byte, then the JSON
        decoder=lambda data: msgspec.json.decode(data[1:]),
        schema="pg_catalog",
        format="binary",
    )
    await conn.execute(
        f"""CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS
            SELECT {", ".join(ACCOUNT_UPDATE_COLUMNS)} FROM customer_accounts WITH NO DATA"""
    )


async def allocate_ids(conn: Connection, table: str, count: int) -> list[int]:
    """`count` ids from the table's identity sequence (`table` is one of this module's constants). The sequence is
    looked up once, not once a row: pg_get_serial_sequence costs a catalog lookup, three times nextval's own work."""
    if count == 0:
        return []
    rows = await conn.fetch(
        """WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq)
           SELECT nextval(s.seq) AS id FROM s, generate_series(1, $2)""",
        table,
        count,
    )
    return [row["id"] for row in rows]


async def find_accounts(
    conn: Connection, tenant_id: int, kind: str, pairs: list[tuple[int, str]]
) -> list[tuple[int, str, Account, int | None]]:
    """The accounts named by (customer set id, key) pairs of one kind: (set id, key, account, the import job that
    made it)."""
    if not pairs:
        return []
    column = _KEY_COLUMNS[kind]
    rows = await conn.fetch(
        f"""SELECT {ACCOUNT_COLUMNS}, a.customer_set_id AS match_set_id, k.key AS match_key,
                   a.import_job_id
            {ACCOUNT_FROM} JOIN unnest($2::int[], $3::text[]) AS k(set_id, key)
                ON a.customer_set_id = k.set_id AND {column} = substr(k.key, 3)
            WHERE a.tenant_id = $1 ORDER BY a.id""",
        tenant_id,
        [set_id for set_id, _ in pairs],
        [key for _, key in pairs],
    )
    found = []
    for row in rows:
        values = dict(row)
        set_id, key, job_id = values.pop("match_set_id"), values.pop("match_key"), values.pop("import_job_id")
        found.append((set_id, key, Account(**values), job_id))
    return found


async def accounts_by_id(conn: Conn, tenant_id: int, account_ids: list[int]) -> list[Account]:
    rows = await conn.fetch(
        f"SELECT {ACCOUNT_COLUMNS} {ACCOUNT_FROM} WHERE a.tenant_id = $1 AND a.id = ANY($2::int[])",
        tenant_id,
        account_ids,
    )
    return [Account(**dict(row)) for row in rows]


async def contacts_of(conn: Connection, tenant_id: int, account_ids: list[int]) -> dict[int, list[Contact]]:
    return await contacts_repo.list_for_accounts(conn, tenant_id, account_ids)


async def address_extras_of(conn: Connection, tenant_id: int, contact_ids: list[int]) -> dict[int, AddressExtras]:
    """Magento's fields of these addresses (contacts), by contact."""
    return await _extras_of(conn, "magento_addresses", "contact_id", AddressExtras, tenant_id, contact_ids)


async def customer_extras_of(conn: Connection, tenant_id: int, account_ids: list[int]) -> dict[int, CustomerExtras]:
    """Magento's fields of the accounts, by account."""
    return await _extras_of(conn, "magento_customers", "account_id", CustomerExtras, tenant_id, account_ids)


async def _extras_of(
    conn: Connection, table: str, key: str, record: type[E], tenant_id: int, ids: list[int]
) -> dict[int, E]:
    """Rows of a Magento table by its key (the table's primary key is (tenant_id, key))."""
    names = record.__struct_fields__
    rows = await conn.fetch(
        f"SELECT {key}, {', '.join(names)} FROM {table} WHERE tenant_id = $1 AND {key} = ANY($2::int[])",
        tenant_id,
        ids,
    )
    return {row[key]: record(**{name: row[name] for name in names}) for row in rows}


async def lock_accounts(conn: Connection, tenant_id: int, account_ids: list[int]) -> set[int]:
    """Lock the accounts' rows, in id order (as every account write does first); the ids that still exist."""
    rows = await conn.fetch(
        """SELECT id FROM customer_accounts WHERE tenant_id = $1 AND id = ANY($2::int[]) ORDER BY id
           FOR NO KEY UPDATE""",
        tenant_id,
        account_ids,
    )
    return {row["id"] for row in rows}


async def update_accounts(conn: Connection, rows: Sequence[Row]) -> None:
    """Rows of ACCOUNT_UPDATE_COLUMNS: each account's columns replaced, its change time and author set."""
    await conn.copy_records_to_table(_STAGE, records=rows, columns=ACCOUNT_UPDATE_COLUMNS)
    assignments = ", ".join(f"{name} = s.{name}" for name in (*WRITTEN_COLUMNS, "updated_by"))
    await conn.execute(
        f"""UPDATE customer_accounts a SET {assignments}, updated_at = now()
            FROM {_STAGE} s WHERE a.tenant_id = s.tenant_id AND a.id = s.id"""
    )


async def delete_children(conn: Connection, tenant_id: int, table: str, account_ids: list[int]) -> None:
    """The accounts' contacts (with their types and Magento rows) or Magento rows (`table`: a constant here)."""
    if account_ids:
        await conn.execute(
            f"DELETE FROM {table} WHERE tenant_id = $1 AND account_id = ANY($2::int[])", tenant_id, account_ids
        )


async def copy_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: Sequence[Row]) -> None:
    """New rows by COPY (`table` and `columns`: this module's constants)."""
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=columns)


async def load_context(conn: Connection, tenant_id: int) -> Context:
    """The tenant's customer sets and sites, as a batch's lines name them."""
    sets = await conn.fetch(
        """SELECT c.id, c.code, EXISTS (SELECT 1 FROM sites s WHERE s.tenant_id = c.tenant_id
                                        AND s.customer_set_id = c.id AND s.is_default) AS is_default
           FROM customer_sets c WHERE c.tenant_id = $1""",
        tenant_id,
    )
    sites = await conn.fetch("SELECT id, code, name, customer_set_id FROM sites WHERE tenant_id = $1", tenant_id)
    return Context(
        set_ids={row["code"]: row["id"] for row in sets},
        default_set_id=next(row["id"] for row in sets if row["is_default"]),
        sites={(row["customer_set_id"], row["code"]): Site(row["id"], row["name"]) for row in sites},
    )
