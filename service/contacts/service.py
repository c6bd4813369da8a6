"""Contacts of a customer account. The account is checked to be in the caller's scope first."""

from __future__ import annotations

from dataclasses import dataclass

from service import audit
from service.accounts import repository as accounts_repo
from service.accounts.lookups import lock_account, require_account
from service.accounts.records import Contact, ContactFields, NewContact
from service.audit import Actor
from service.contacts import repository as repo
from service.errors import ErrorCode, FieldError, InvalidInput, NotFound
from service.platform.db import Conn, Connection, Database
from service.tenants.scope import CustomerScope
from service.tenants.transactions import tenant_transaction

CONTACT_TYPES = {"billing": "Billing", "shipping": "Shipping"}
MAX_CONTACTS_PER_ACCOUNT = 500


def contact_not_found() -> NotFound:
    return NotFound("Contact not found.", code=ErrorCode.CONTACT_NOT_FOUND)


def checked_types(contact: NewContact) -> list[tuple[str, bool]]:
    """The contact's types as (Billing|Shipping, primary?), each at most once."""
    types: dict[str, bool] = {}
    for raw_name, is_primary in contact.types:
        name = CONTACT_TYPES.get((raw_name or "").strip().lower())
        if name is None:
            raise InvalidInput(
                "Contact types are Billing or Shipping.",
                code=ErrorCode.INVALID_CONTACT_TYPE,
                field_errors=(FieldError("types.name", "must be Billing or Shipping"),),
            )
        if name in types:
            raise InvalidInput(f"The type {name} is listed twice.", code=ErrorCode.INVALID_CONTACT_TYPE)
        types[name] = is_primary
    return list(types.items())


async def insert_contact(
    conn: Connection, tenant_id: int, account_id: int, fields: ContactFields, types: list[tuple[str, bool]], actor: str
) -> int:
    """The one way a contact is added, by every surface: within the account's limit, with its types."""
    if await repo.count_for_account(conn, tenant_id, account_id) >= MAX_CONTACTS_PER_ACCOUNT:
        raise InvalidInput(
            f"An account holds at most {MAX_CONTACTS_PER_ACCOUNT} contacts.", code=ErrorCode.TOO_MANY_CONTACTS
        )
    contact_id = await repo.insert(conn, tenant_id, account_id, fields, actor)
    await repo.replace_types(conn, tenant_id, account_id, contact_id, types)
    return contact_id


async def _contact(conn: Conn, tenant_id: int, account_id: int, contact_id: int) -> Contact:
    contact = await repo.get(conn, tenant_id, account_id, contact_id)
    if contact is None:
        raise contact_not_found()
    return contact


@dataclass(frozen=True, kw_only=True, slots=True)
class Contacts:
    db: Database

    async def add(
        self, scope: CustomerScope, actor: Actor, account_id: int, contacts: list[NewContact]
    ) -> list[Contact]:
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await lock_account(conn, scope, account_id)
            ids = [
                await insert_contact(conn, scope.tenant_id, account_id, c.fields, checked_types(c), actor.name)
                for c in contacts
            ]
            await accounts_repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(
                conn, actor, scope.tenant_id, "contact.added", "customer_account", account_id, {"contactIds": ids}
            )
            return [await _contact(conn, scope.tenant_id, account_id, i) for i in ids]

    async def list(self, scope: CustomerScope, account_id: int, offset: int, limit: int) -> tuple[list[Contact], int]:
        await require_account(self.db, scope, account_id)
        contacts = await repo.list_for_account(self.db, scope.tenant_id, account_id, offset, limit)
        return contacts, await repo.count_for_account(self.db, scope.tenant_id, account_id)

    async def get(self, scope: CustomerScope, account_id: int, contact_id: int) -> Contact:
        await require_account(self.db, scope, account_id)
        return await _contact(self.db, scope.tenant_id, account_id, contact_id)

    async def update(
        self, scope: CustomerScope, actor: Actor, account_id: int, contact_id: int, contact: NewContact
    ) -> Contact:
        types = checked_types(contact)
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await lock_account(conn, scope, account_id)
            if not await repo.update(conn, scope.tenant_id, account_id, contact_id, contact.fields, actor.name):
                raise contact_not_found()
            await repo.replace_types(conn, scope.tenant_id, account_id, contact_id, types)
            await accounts_repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(
                conn,
                actor,
                scope.tenant_id,
                "contact.updated",
                "customer_account",
                account_id,
                {"contactId": contact_id},
            )
            return await _contact(conn, scope.tenant_id, account_id, contact_id)

    async def delete(self, scope: CustomerScope, actor: Actor, account_id: int, contact_id: int) -> None:
        async with tenant_transaction(self.db, scope.tenant_id) as conn:
            await lock_account(conn, scope, account_id)
            if not await repo.delete(conn, scope.tenant_id, account_id, contact_id):
                raise contact_not_found()
            await accounts_repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(
                conn,
                actor,
                scope.tenant_id,
                "contact.deleted",
                "customer_account",
                account_id,
                {"contactId": contact_id},
            )
