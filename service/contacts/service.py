"""Contacts of a customer account. The account is checked to be in the caller's scope first."""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any

import asyncpg

from service import audit
from service.accounts import repository as accounts_repo
from service.http.kibo.models import CustomerContact
from service.audit import Actor
from service.platform.db import Database
from service.contacts import repository as repo
from service.errors import FieldError, InvalidInput, NotFound
from service.http.kibo.conventions import audit_info
from service.tenants.scope import CustomerScope

CONTACT_TYPES = {"billing": "Billing", "shipping": "Shipping"}
MAX_CONTACTS_PER_ACCOUNT = 500


def contact_not_found() -> NotFound:
    return NotFound("Contact not found.", code="CONTACT_NOT_FOUND")


def _fields(contact: CustomerContact) -> dict[str, Any]:
    phones, address = contact.phone_numbers, contact.address
    return {
        "label": contact.label, "email": contact.email, "first_name": contact.first_name,
        "middle_name_or_initial": contact.middle_name_or_initial, "last_name_or_surname": contact.last_name_or_surname,
        "company_or_organization": contact.company_or_organization, "fax_number": contact.fax_number,
        "phone_home": phones.home if phones else None, "phone_mobile": phones.mobile if phones else None,
        "phone_work": phones.work if phones else None,
        "address1": address.address1 if address else None, "address2": address.address2 if address else None,
        "address3": address.address3 if address else None, "address4": address.address4 if address else None,
        "city_or_town": address.city_or_town if address else None,
        "state_or_province": address.state_or_province if address else None,
        "postal_or_zip_code": address.postal_or_zip_code if address else None,
        "country_code": address.country_code if address else None,
        "address_type": address.address_type if address else None,
        "is_validated": address.is_validated if address else None,
    }


def _types(contact: CustomerContact) -> list[tuple[str, bool]]:
    types: dict[str, bool] = {}
    for entry in contact.types or []:
        name = CONTACT_TYPES.get((entry.name or "").strip().lower())
        if name is None:
            raise InvalidInput("Contact types are Billing or Shipping.", code="INVALID_CONTACT_TYPE",
                               field_errors=(FieldError("types.name", "must be Billing or Shipping"),))
        if name in types:
            raise InvalidInput(f"The type {name} is listed twice.", code="INVALID_CONTACT_TYPE")
        types[name] = bool(entry.is_primary)
    return list(types.items())


def contact_body(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "accountId": row["account_id"],
        "types": row["types"],
        "auditInfo": audit_info(row),
        "faxNumber": row["fax_number"],
        "label": row["label"],
        "email": row["email"],
        "firstName": row["first_name"],
        "middleNameOrInitial": row["middle_name_or_initial"],
        "lastNameOrSurname": row["last_name_or_surname"],
        "companyOrOrganization": row["company_or_organization"],
        "phoneNumbers": {"home": row["phone_home"], "mobile": row["phone_mobile"], "work": row["phone_work"]},
        "address": {
            "address1": row["address1"], "address2": row["address2"], "address3": row["address3"],
            "address4": row["address4"], "cityOrTown": row["city_or_town"], "stateOrProvince": row["state_or_province"],
            "postalOrZipCode": row["postal_or_zip_code"], "countryCode": row["country_code"],
            "addressType": row["address_type"], "isValidated": row["is_validated"],
        },
    }


async def insert_contact(conn: asyncpg.Connection, tenant_id: int, account_id: int, contact: CustomerContact, actor: str) -> int:
    types = _types(contact)
    if await repo.count_for_account(conn, tenant_id, account_id) >= MAX_CONTACTS_PER_ACCOUNT:
        raise InvalidInput(f"An account holds at most {MAX_CONTACTS_PER_ACCOUNT} contacts.", code="TOO_MANY_CONTACTS")
    contact_id = await repo.insert(conn, tenant_id, account_id, _fields(contact), actor)
    await repo.replace_types(conn, tenant_id, account_id, contact_id, types)
    return contact_id


async def contact_bodies(conn: Any, tenant_id: int, account_id: int) -> list[dict[str, Any]]:
    return [contact_body(row) for row in await repo.list_for_account(conn, tenant_id, account_id)]


async def _require_account(conn: Any, scope: CustomerScope, account_id: int) -> None:
    if await accounts_repo.get_account(conn, scope.tenant_id, scope.customer_set_id, account_id) is None:
        raise NotFound("Customer account not found.", code="ACCOUNT_NOT_FOUND")



@dataclass(frozen=True, kw_only=True, slots=True)
class Contacts:
    db: Database

    async def add(self, scope: CustomerScope, actor: Actor, account_id: int, contacts: list[CustomerContact]) -> list[dict[str, Any]]:
        async with self.db.acquire() as conn, conn.transaction():
            await _require_account(conn, scope, account_id)
            ids = [await insert_contact(conn, scope.tenant_id, account_id, c, actor.name) for c in contacts]
            await accounts_repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, "contact.added", "customer_account", account_id, {"contactIds": ids})
            return [contact_body(await repo.get(conn, scope.tenant_id, account_id, i)) for i in ids]


    async def list_contacts(self, scope: CustomerScope, account_id: int, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        await _require_account(self.db, scope, account_id)
        rows = await repo.list_for_account(self.db, scope.tenant_id, account_id, offset, limit)
        return [contact_body(r) for r in rows], await repo.count_for_account(self.db, scope.tenant_id, account_id)


    async def get(self, scope: CustomerScope, account_id: int, contact_id: int) -> dict[str, Any]:
        await _require_account(self.db, scope, account_id)
        row = await repo.get(self.db, scope.tenant_id, account_id, contact_id)
        if row is None:
            raise contact_not_found()
        return contact_body(row)


    async def update(self, scope: CustomerScope, actor: Actor, account_id: int, contact_id: int,
                     contact: CustomerContact) -> dict[str, Any]:
        types = _types(contact)
        async with self.db.acquire() as conn, conn.transaction():
            await _require_account(conn, scope, account_id)
            if not await repo.update(conn, scope.tenant_id, account_id, contact_id, _fields(contact), actor.name):
                raise contact_not_found()
            await repo.replace_types(conn, scope.tenant_id, account_id, contact_id, types)
            await accounts_repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, "contact.updated", "customer_account", account_id, {"contactId": contact_id})
            return contact_body(await repo.get(conn, scope.tenant_id, account_id, contact_id))


    async def delete(self, scope: CustomerScope, actor: Actor, account_id: int, contact_id: int) -> None:
        async with self.db.acquire() as conn, conn.transaction():
            await _require_account(conn, scope, account_id)
            if not await repo.delete(conn, scope.tenant_id, account_id, contact_id):
                raise contact_not_found()
            await accounts_repo.touch_account(conn, scope.tenant_id, account_id, actor.name)
            await audit.record(conn, actor, scope.tenant_id, "contact.deleted", "customer_account", account_id, {"contactId": contact_id})
