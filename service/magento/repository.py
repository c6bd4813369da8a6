"""SQL for Magento's view of tenants, stores and customers. Every statement names its tenant.

A Magento customer is a row of `customer_accounts` (its website is the account's customer set) with
an optional row of `magento_customers`; an address is a row of `customer_contacts` with an optional
row of `magento_addresses`. Accounts made through Kibo have no Magento rows and read with Magento's
defaults.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from service.contacts import repository as contacts_repo
from service.magento.records import (
    AddressExtras,
    CustomerExtras,
    MagentoAddress,
    MagentoCustomer,
    Store,
    StoreGroup,
    Website,
)
from service.platform.db import Conn
from service.tenants.settings import TenantSettings, settings_from_row

# A website's default store: the tenant's default site when it is in the website, else its first site.
_FIRST_STORE = "ORDER BY s.is_default DESC, s.id LIMIT 1"
_STORE_COLUMNS = "s.id, s.code, s.name, s.customer_set_id AS website_id, c.code AS website_code, s.is_default"
_STORE_JOIN = "sites s JOIN customer_sets c ON c.tenant_id = s.tenant_id AND c.id = s.customer_set_id"

# One row per customer, in Magento's field names; search filters and sorts over it as `c`. `d` is the
# website's default store, which stands in for the store of accounts that were not created through Magento.
CUSTOMERS = f"""
    SELECT a.id, a.tenant_id, a.customer_set_id AS website_id, cs.code AS website_code, a.email_address AS email,
           a.first_name AS firstname, a.last_name AS lastname, a.tax_id AS taxvat, a.accepts_marketing AS is_subscribed,
           a.created_at, a.updated_at, coalesce(m.group_id, 1) AS group_id,
           coalesce(m.disable_auto_group_change, 0) AS disable_auto_group_change,
           m.prefix, m.middlename, m.suffix, m.dob, m.gender,
           coalesce(m.store_id, d.id, 0) AS store_id, coalesce(m.created_in, d.name, 'Admin') AS created_in,
           (SELECT t.contact_id FROM customer_contact_types t WHERE t.tenant_id = a.tenant_id AND t.account_id = a.id
               AND t.name = 'Billing' AND t.is_primary) AS default_billing,
           (SELECT t.contact_id FROM customer_contact_types t WHERE t.tenant_id = a.tenant_id AND t.account_id = a.id
               AND t.name = 'Shipping' AND t.is_primary) AS default_shipping
    FROM customer_accounts a
    JOIN customer_sets cs ON cs.tenant_id = a.tenant_id AND cs.id = a.customer_set_id
    LEFT JOIN magento_customers m ON m.tenant_id = a.tenant_id AND m.account_id = a.id
    LEFT JOIN LATERAL (SELECT s.id, s.name FROM sites s WHERE s.tenant_id = a.tenant_id
                       AND s.customer_set_id = a.customer_set_id {_FIRST_STORE}) d ON true"""
_CUSTOMER_FIELDS = (
    "id",
    "website_id",
    "website_code",
    "email",
    "firstname",
    "lastname",
    "taxvat",
    "is_subscribed",
    "created_at",
    "updated_at",
    "default_billing",
    "default_shipping",
)
_EXTRA_FIELDS = tuple(CustomerExtras.__struct_fields__)
_ADDRESS_EXTRA_FIELDS = tuple(AddressExtras.__struct_fields__)
_SELECT_CUSTOMERS = (
    f"SELECT {', '.join(f'c.{name}' for name in (*_CUSTOMER_FIELDS, *_EXTRA_FIELDS))} FROM ({CUSTOMERS}) c"
)


def _store(row: asyncpg.Record) -> Store:
    return Store(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        website_id=row["website_id"],
        website_code=row["website_code"],
        is_default=row["is_default"],
    )


def _website(row: asyncpg.Record) -> Website:
    return Website(id=row["id"], code=row["code"], name=row["name"])


# --- tenants and stores -----------------------------------------------------------------------------


async def tenant_for_host(conn: Conn, host: str) -> int | None:
    """The tenant whose setting hostNames lists this host (uses the GIN index on settings -> 'hostNames')."""
    tenant_id: int | None = await conn.fetchval(
        "SELECT id FROM tenants WHERE settings -> 'hostNames' ? $1 ORDER BY id LIMIT 1", host
    )
    return tenant_id


async def tenant_stores(conn: Conn, tenant_id: int, code: str | None) -> tuple[TenantSettings | None, list[Store]]:
    """The tenant's settings with its default site and, when `code` names one, that site; (None, []): no such
    tenant."""
    rows = await conn.fetch(
        f"""SELECT t.settings, {_STORE_COLUMNS} FROM tenants t JOIN {_STORE_JOIN} ON s.tenant_id = t.id
            WHERE t.id = $1 AND (s.is_default OR s.code = $2)""",
        tenant_id,
        code,
    )
    if not rows:
        return None, []
    return settings_from_row(rows[0]["settings"]), [_store(row) for row in rows]


async def list_stores(conn: Conn, tenant_id: int) -> list[Store]:
    rows = await conn.fetch(
        f"SELECT {_STORE_COLUMNS} FROM {_STORE_JOIN} WHERE s.tenant_id = $1 ORDER BY s.id", tenant_id
    )
    return [_store(row) for row in rows]


async def get_store(conn: Conn, tenant_id: int, store_id: int) -> Store | None:
    row = await conn.fetchrow(
        f"SELECT {_STORE_COLUMNS} FROM {_STORE_JOIN} WHERE s.tenant_id = $1 AND s.id = $2", tenant_id, store_id
    )
    return _store(row) if row is not None else None


async def default_store_of(conn: Conn, tenant_id: int, website_id: int) -> Store | None:
    row = await conn.fetchrow(
        f"SELECT {_STORE_COLUMNS} FROM {_STORE_JOIN} WHERE s.tenant_id = $1 AND s.customer_set_id = $2 {_FIRST_STORE}",
        tenant_id,
        website_id,
    )
    return _store(row) if row is not None else None


async def list_websites(conn: Conn, tenant_id: int) -> list[Website]:
    rows = await conn.fetch("SELECT id, code, name FROM customer_sets WHERE tenant_id = $1 ORDER BY id", tenant_id)
    return [_website(row) for row in rows]


async def get_website(conn: Conn, tenant_id: int, website_id: int) -> Website | None:
    row = await conn.fetchrow(
        "SELECT id, code, name FROM customer_sets WHERE tenant_id = $1 AND id = $2", tenant_id, website_id
    )
    return _website(row) if row is not None else None


async def list_store_groups(conn: Conn, tenant_id: int) -> list[StoreGroup]:
    rows = await conn.fetch(
        f"""SELECT c.id, c.code, c.name,
                   coalesce((SELECT s.id FROM sites s WHERE s.tenant_id = c.tenant_id AND s.customer_set_id = c.id
                             {_FIRST_STORE}), 0) AS default_store_id
            FROM customer_sets c WHERE c.tenant_id = $1 ORDER BY c.id""",
        tenant_id,
    )
    return [
        StoreGroup(id=row["id"], code=row["code"], name=row["name"], default_store_id=row["default_store_id"])
        for row in rows
    ]


# --- customers --------------------------------------------------------------------------------------


async def get_customer(conn: Conn, tenant_id: int, account_id: int) -> MagentoCustomer | None:
    row = await conn.fetchrow(f"{_SELECT_CUSTOMERS} WHERE c.tenant_id = $1 AND c.id = $2", tenant_id, account_id)
    return (await _with_addresses(conn, tenant_id, [row]))[0] if row is not None else None


async def search_customers(
    conn: Conn, tenant_id: int, where: str, values: list[Any], order: str, offset: int, limit: int
) -> tuple[list[MagentoCustomer], int]:
    # `where` and `order` are assembled by service.magento.search from fixed fragments only; values are bound.
    condition = f"WHERE c.tenant_id = $1 AND {where}"
    total: int = await conn.fetchval(f"SELECT count(*) FROM ({CUSTOMERS}) c {condition}", tenant_id, *values)
    n = len(values)
    rows = await conn.fetch(
        f"{_SELECT_CUSTOMERS} {condition} ORDER BY {order} OFFSET ${n + 2} LIMIT ${n + 3}",
        tenant_id,
        *values,
        offset,
        limit,
    )
    return await _with_addresses(conn, tenant_id, rows), total


async def _with_addresses(conn: Conn, tenant_id: int, rows: list[asyncpg.Record]) -> list[MagentoCustomer]:
    """The customers of these rows with their addresses: the accounts' contacts in one query, their Magento
    fields in one more."""
    contacts = await contacts_repo.list_for_accounts(conn, tenant_id, [row["id"] for row in rows])
    extras = await _address_extras(conn, tenant_id, [c.id for listed in contacts.values() for c in listed])
    return [
        MagentoCustomer(
            **{name: row[name] for name in _CUSTOMER_FIELDS},
            extras=CustomerExtras(**{name: row[name] for name in _EXTRA_FIELDS}),
            addresses=tuple(
                MagentoAddress(contact=contact, extras=extras.get(contact.id, AddressExtras()))
                for contact in contacts[row["id"]]
            ),
        )
        for row in rows
    ]


async def _address_extras(conn: Conn, tenant_id: int, contact_ids: list[int]) -> dict[int, AddressExtras]:
    rows = await conn.fetch(
        f"""SELECT contact_id, {", ".join(_ADDRESS_EXTRA_FIELDS)} FROM magento_addresses
            WHERE tenant_id = $1 AND contact_id = ANY($2::int[])""",
        tenant_id,
        contact_ids,
    )
    return {row["contact_id"]: AddressExtras(**{name: row[name] for name in _ADDRESS_EXTRA_FIELDS}) for row in rows}


async def email_exists(conn: Conn, tenant_id: int, website_id: int, email_normalized: str) -> bool:
    exists: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM customer_accounts
                          WHERE tenant_id = $1 AND customer_set_id = $2 AND email_normalized = $3)""",
        tenant_id,
        website_id,
        email_normalized,
    )
    return exists


async def save_extras(conn: Conn, tenant_id: int, account_id: int, extras: CustomerExtras) -> None:
    # `created_in` is written once, when the customer is made: Magento keeps the store view's name of that time.
    await conn.execute(
        f"""INSERT INTO magento_customers (tenant_id, account_id, {", ".join(_EXTRA_FIELDS)})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (tenant_id, account_id) DO UPDATE SET store_id = EXCLUDED.store_id,
                group_id = EXCLUDED.group_id, disable_auto_group_change = EXCLUDED.disable_auto_group_change,
                prefix = EXCLUDED.prefix, middlename = EXCLUDED.middlename, suffix = EXCLUDED.suffix,
                dob = EXCLUDED.dob, gender = EXCLUDED.gender""",
        tenant_id,
        account_id,
        *(getattr(extras, name) for name in _EXTRA_FIELDS),
    )


async def save_address_extras(
    conn: Conn, tenant_id: int, account_id: int, contact_id: int, extras: AddressExtras
) -> None:
    await conn.execute(
        f"""INSERT INTO magento_addresses (tenant_id, account_id, contact_id, {", ".join(_ADDRESS_EXTRA_FIELDS)})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (tenant_id, contact_id) DO UPDATE SET region_id = EXCLUDED.region_id,
                region = EXCLUDED.region, prefix = EXCLUDED.prefix, suffix = EXCLUDED.suffix,
                vat_id = EXCLUDED.vat_id""",
        tenant_id,
        account_id,
        contact_id,
        *(getattr(extras, name) for name in _ADDRESS_EXTRA_FIELDS),
    )
