"""SQL for Magento's view of tenants, stores and customers. Every statement names its tenant.

A Magento customer is a row of `customer_accounts` (its website is the account's customer set) with
an optional row of `magento_customers`; an address is a row of `customer_contacts` with an optional
row of `magento_addresses`. Accounts made through Kibo have no Magento rows and read with Magento's
defaults.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from service.platform.db import Conn

# One row per customer, in Magento's field names. `d` is the website's default store, which stands
# in for the store of accounts that were not created through Magento.
CUSTOMERS = """
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
                       AND s.customer_set_id = a.customer_set_id ORDER BY s.is_default DESC, s.id LIMIT 1) d ON true"""

EXTRA_FIELDS = ("store_id", "created_in", "group_id", "disable_auto_group_change", "prefix", "middlename", "suffix",
                "dob", "gender")
ADDRESS_EXTRA_FIELDS = ("region_id", "region", "prefix", "suffix", "vat_id")


# --- tenants and stores -----------------------------------------------------------------------------


async def tenant_for_host(conn: Conn, host: str) -> int | None:
    """The tenant whose setting hostNames lists this host (uses the GIN index on settings -> 'hostNames')."""
    return await conn.fetchval(
        "SELECT id FROM tenants WHERE settings -> 'hostNames' ? $1 ORDER BY id LIMIT 1", host
    )


async def tenant_stores(conn: Conn, tenant_id: int, code: str | None) -> list[asyncpg.Record]:
    """The tenant's settings with its default site and, when `code` names one, that site."""
    return await conn.fetch(
        """SELECT t.settings, s.id, s.code, s.name, s.customer_set_id, c.code AS customer_set_code, s.is_default
           FROM tenants t JOIN sites s ON s.tenant_id = t.id
           JOIN customer_sets c ON c.tenant_id = s.tenant_id AND c.id = s.customer_set_id
           WHERE t.id = $1 AND (s.is_default OR s.code = $2)""",
        tenant_id, code,
    )


async def customer_set(conn: Conn, tenant_id: int, customer_set_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, code, name FROM customer_sets WHERE tenant_id = $1 AND id = $2", tenant_id, customer_set_id
    )


async def default_store_of(conn: Conn, tenant_id: int, customer_set_id: int) -> asyncpg.Record | None:
    """A website's default store: the tenant's default site when it is in the website, else its first site."""
    return await conn.fetchrow(
        """SELECT id, code, name, customer_set_id FROM sites WHERE tenant_id = $1 AND customer_set_id = $2
           ORDER BY is_default DESC, id LIMIT 1""",
        tenant_id, customer_set_id,
    )


# --- customers --------------------------------------------------------------------------------------


async def get_customer(conn: Conn, tenant_id: int, account_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{CUSTOMERS} WHERE a.tenant_id = $1 AND a.id = $2", tenant_id, account_id)


async def search_customers(
    conn: Conn, tenant_id: int, where: str, values: list[Any], order: str, offset: int, limit: int
) -> tuple[list[asyncpg.Record], int]:
    # `where` and `order` are assembled by service.magento.search from fixed fragments only; values are bound.
    base = f"FROM ({CUSTOMERS}) c WHERE c.tenant_id = $1 AND {where}"
    total = await conn.fetchval(f"SELECT count(*) {base}", tenant_id, *values)
    n = len(values)
    rows = await conn.fetch(
        f"SELECT c.* {base} ORDER BY {order} OFFSET ${n + 2} LIMIT ${n + 3}", tenant_id, *values, offset, limit
    )
    return rows, total


async def email_exists(conn: Conn, tenant_id: int, customer_set_id: int, email_normalized: str) -> bool:
    return await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM customer_accounts
                          WHERE tenant_id = $1 AND customer_set_id = $2 AND email_normalized = $3)""",
        tenant_id, customer_set_id, email_normalized,
    )


async def save_extras(conn: Conn, tenant_id: int, account_id: int, extras: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO magento_customers (tenant_id, account_id, store_id, created_in, group_id,
               disable_auto_group_change, prefix, middlename, suffix, dob, gender)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (tenant_id, account_id) DO UPDATE SET store_id = EXCLUDED.store_id,
               group_id = EXCLUDED.group_id, disable_auto_group_change = EXCLUDED.disable_auto_group_change,
               prefix = EXCLUDED.prefix, middlename = EXCLUDED.middlename, suffix = EXCLUDED.suffix,
               dob = EXCLUDED.dob, gender = EXCLUDED.gender""",
        tenant_id, account_id, *(extras[name] for name in EXTRA_FIELDS),
    )


# --- addresses --------------------------------------------------------------------------------------


async def addresses_of(conn: Conn, tenant_id: int, account_ids: list[int]) -> list[asyncpg.Record]:
    """The contacts of these accounts with their types and Magento fields, by account and id."""
    return await conn.fetch(
        """SELECT c.*, x.region_id, x.region, x.prefix, x.suffix, x.vat_id, coalesce(
                  (SELECT jsonb_agg(jsonb_build_object('name', t.name, 'is_primary', t.is_primary) ORDER BY t.name)
                   FROM customer_contact_types t WHERE t.tenant_id = c.tenant_id AND t.contact_id = c.id),
                  '[]'::jsonb) AS types
           FROM customer_contacts c
           LEFT JOIN magento_addresses x ON x.tenant_id = c.tenant_id AND x.contact_id = c.id
           WHERE c.tenant_id = $1 AND c.account_id = ANY($2::int[])
           ORDER BY c.account_id, c.id""",
        tenant_id, account_ids,
    )


async def save_address_extras(conn: Conn, tenant_id: int, account_id: int, contact_id: int, extras: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO magento_addresses (tenant_id, account_id, contact_id, region_id, region, prefix, suffix, vat_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tenant_id, contact_id) DO UPDATE SET region_id = EXCLUDED.region_id,
               region = EXCLUDED.region, prefix = EXCLUDED.prefix, suffix = EXCLUDED.suffix, vat_id = EXCLUDED.vat_id""",
        tenant_id, account_id, contact_id, *(extras[name] for name in ADDRESS_EXTRA_FIELDS),
    )
