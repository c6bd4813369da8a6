"""The one way a customer account comes to exist, used by Kibo, Magento and every bulk path."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg
import msgspec

from service import audit
from service.accounts import repository as repo
from service.accounts.fields import account_columns, duplicate, require_login_name
from service.accounts.records import AccountChanges, NewContact
from service.audit import Actor
from service.contacts.service import checked_types, insert_contact
from service.platform.db import Connection


class NewAccount(msgspec.Struct, frozen=True, kw_only=True):
    changes: AccountChanges
    contacts: tuple[NewContact, ...] = ()
    password_hash: str | None = None  # made by AccountPasswords.hash_new; None: an account without a login


async def insert_account(
    conn: Connection,
    tenant_id: int,
    customer_set_id: int,
    actor: Actor,
    new: NewAccount,
    audit_details: dict[str, Any] | None = None,
) -> int:
    """Account, contacts and login inside the caller's transaction: neither exists without the others."""
    columns = account_columns(new.changes, None)
    if new.password_hash is not None:
        require_login_name(columns)
    try:
        async with conn.transaction():  # a savepoint, so a duplicate leaves the outer transaction usable
            account_id = await repo.insert_account(conn, tenant_id, customer_set_id, columns, actor.name)
    except asyncpg.UniqueViolationError as exc:
        raise duplicate(exc) from None
    await audit.record(conn, actor, tenant_id, "account.created", "customer_account", account_id, audit_details)
    for contact in new.contacts:
        await insert_contact(conn, tenant_id, account_id, contact.fields, checked_types(contact), actor.name)
    if new.password_hash is not None:
        await repo.insert_login(conn, tenant_id, account_id, secrets.token_hex(16), new.password_hash)
        await audit.record(conn, actor, tenant_id, "login.created", "customer_account", account_id)
    return account_id
