"""A batch's decisions as rows: new accounts with everything they own, changed accounts, their audit events.

Runs inside the batch's transaction, on one of the import's own connections. Each table gets one statement for the
whole batch; an account's audit trail starts with its `account.imported` event, written in the same batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from msgspec.structs import astuple

from service.accounts.repository import WRITTEN_COLUMNS
from service.imports.bulk import repository as bulk
from service.imports.matching import Update
from service.imports.prepare import Prepared, PreparedContact
from service.imports.repository import RunState
from service.magento.records import AddressExtras
from service.platform.db import Connection

_NO_EXTRAS = AddressExtras()


async def write(conn: Connection, job: RunState, creates: list[Prepared], updates: list[Update]) -> list[Update]:
    """Write the batch; the updates whose account was deleted meanwhile (nothing is written for them)."""
    gone = await _update_accounts(conn, job, updates) if updates else []
    updates = [u for u in updates if u not in gone]
    ids = await bulk.allocate_ids(conn, "customer_accounts", len(creates))
    created = list(zip(ids, creates, strict=True))
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    accounts = [_new_account(job, account_id, line, now) for account_id, line in created]
    await bulk.copy_rows(conn, "customer_accounts", bulk.ACCOUNT_INSERT_COLUMNS, accounts)
    contacts = [(i, p.contacts) for i, p in created if p.contacts]
    contacts += [(u.account_id, u.prepared.contacts) for u in updates if u.contacts and u.prepared.contacts]
    await _write_contacts(conn, job, contacts)
    magento = [(i, p.magento) for i, p in created if p.magento is not None]
    magento += [(u.account_id, u.prepared.magento) for u in updates if u.magento and u.prepared.magento is not None]
    rows = [(job.tenant_id, account_id, *astuple(extras)) for account_id, extras in magento]
    await bulk.copy_rows(conn, "magento_customers", bulk.CUSTOMER_EXTRA_COLUMNS, rows)
    logins = [(i, p.stored_hash) for i, p in created if p.stored_hash is not None]
    logins += [
        (u.account_id, u.prepared.stored_hash) for u in updates if u.login and u.prepared.stored_hash is not None
    ]
    rows = [(job.tenant_id, account_id, secrets.token_hex(16), stored) for account_id, stored in logins]
    await bulk.copy_rows(conn, "customer_logins", bulk.LOGIN_COLUMNS, rows)
    events = [_imported(job, i, p.line_no, None) for i, p in created]
    events += [_imported(job, u.account_id, u.prepared.line_no, u.changed) for u in updates]
    await bulk.copy_rows(conn, "audit_events", bulk.AUDIT_COLUMNS, events)
    return gone


async def _update_accounts(conn: Connection, job: RunState, updates: list[Update]) -> list[Update]:
    """Lock the changed accounts first, as every account write does; write their columns; clear what the lines
    replace (contacts, Magento's fields)."""
    present = await bulk.lock_accounts(conn, job.tenant_id, sorted({u.account_id for u in updates}))
    gone = [u for u in updates if u.account_id not in present]
    kept = [u for u in updates if u.account_id in present]
    await bulk.update_accounts(
        conn, [(u.account_id, job.tenant_id, *(u.columns[c] for c in WRITTEN_COLUMNS), job.actor.name) for u in kept]
    )
    await bulk.delete_children(conn, job.tenant_id, "customer_contacts", [u.account_id for u in kept if u.contacts])
    await bulk.delete_children(conn, job.tenant_id, "magento_customers", [u.account_id for u in kept if u.magento])
    return gone


def _new_account(job: RunState, account_id: int, line: Prepared, now: datetime) -> Sequence[Any]:
    # customerSinceDate defaults to now, to the millisecond Kibo shows, as for an account made any other way.
    columns = {**line.columns, "customer_since_date": line.columns["customer_since_date"] or now}
    name = job.actor.name
    return (account_id, job.tenant_id, line.set_id, *(columns[c] for c in WRITTEN_COLUMNS), name, name, job.id)


async def _write_contacts(
    conn: Connection, job: RunState, owned: list[tuple[int, tuple[PreparedContact, ...]]]
) -> None:
    ids = iter(await bulk.allocate_ids(conn, "customer_contacts", sum(len(contacts) for _, contacts in owned)))
    rows: list[Sequence[Any]] = []
    types: list[Sequence[Any]] = []
    extras: list[Sequence[Any]] = []
    tenant_id, name = job.tenant_id, job.actor.name
    for account_id, contacts in owned:
        for contact in contacts:
            contact_id = next(ids)
            rows.append((contact_id, tenant_id, account_id, *astuple(contact.fields), name, name))
            types += [(tenant_id, account_id, contact_id, kind, primary) for kind, primary in contact.types]
            if contact.extras != _NO_EXTRAS:
                extras.append((tenant_id, account_id, contact_id, *astuple(contact.extras)))
    await bulk.copy_rows(conn, "customer_contacts", bulk.CONTACT_COLUMNS, rows)
    await bulk.copy_rows(conn, "customer_contact_types", bulk.CONTACT_TYPE_COLUMNS, types)
    await bulk.copy_rows(conn, "magento_addresses", bulk.ADDRESS_EXTRA_COLUMNS, extras)


def _imported(job: RunState, account_id: int, line_no: int, changed: list[str] | None) -> Sequence[Any]:
    details: dict[str, Any] = {"jobId": job.id, "line": line_no, "outcome": "created" if changed is None else "updated"}
    if changed is not None:
        details["changed"] = changed
    actor = job.actor
    return (
        job.tenant_id, actor.name, "account.imported", "customer_account", str(account_id), job.client_ip,
        actor.request_id, details,
    )  # fmt: skip
