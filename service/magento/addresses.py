"""A Magento customer's addresses: the account's contacts, saved as Magento saves them.

An address is a contact plus its Magento fields; Magento's default billing/shipping address is the
primary Billing/Shipping contact. Everything here runs inside the caller's transaction.
"""

from __future__ import annotations

import msgspec

from service.accounts.records import Contact, ContactFields, ContactType
from service.audit import Actor
from service.contacts import repository as contacts_repo
from service.contacts.service import insert_contact
from service.errors import InvalidInput
from service.magento import repository as repo
from service.magento.errors import in_magento_words, no_such_entity, required
from service.magento.inputs import MagentoAddressInput, MagentoCustomerInput
from service.magento.records import AddressExtras, telephone
from service.platform.db import Connection

_REQUIRED = ("firstname", "lastname", "street", "city", "country_id", "telephone")


def check_address(address: MagentoAddressInput) -> None:
    for name in _REQUIRED:
        if not getattr(address, name):  # left out, empty text or no street line
            raise required(name)


def _contact_fields(address: MagentoAddressInput, current: Contact | None) -> ContactFields:
    """Contact fields from a Magento address. Fields Magento cannot see (email, label, mobile and work
    phones, address type) keep their current values; the ones it can see are replaced, as Magento does."""
    kept = current.fields if current is not None else ContactFields()
    street: list[str | None] = [*(address.street or ()), None, None, None, None]
    phone_home = address.telephone
    if current is not None and address.telephone == telephone(kept):
        phone_home = kept.phone_home  # the number shown, sent back: the phones stay as they are
    return msgspec.structs.replace(
        kept,
        first_name=address.firstname,
        last_name_or_surname=address.lastname,
        middle_name_or_initial=address.middlename,
        company_or_organization=address.company,
        fax_number=address.fax,
        phone_home=phone_home,
        address1=street[0],
        address2=street[1],
        address3=street[2],
        address4=street[3],
        city_or_town=address.city,
        state_or_province=address.region_code,
        postal_or_zip_code=address.postcode,
        country_code=address.country_id,
    )


def _contact_types(address: MagentoAddressInput, current: tuple[ContactType, ...]) -> list[tuple[str, bool]]:
    """Billing/Shipping types: a true default flag makes the type primary; false keeps the type but not as
    primary; a flag left out keeps what the contact had."""
    existing = {t.name: t.is_primary for t in current}
    types: dict[str, bool] = {}
    for name, flag in (("Billing", address.default_billing), ("Shipping", address.default_shipping)):
        if flag:
            types[name] = True
        elif name in existing:
            types[name] = existing[name] if flag is None else False
    return list(types.items())


async def save_address(
    conn: Connection,
    tenant_id: int,
    account_id: int,
    address: MagentoAddressInput,
    current: Contact | None,
    actor: Actor,
) -> int:
    """A new address (`current` None) or a change to one; its contact's id."""
    fields = _contact_fields(address, current)
    types = _contact_types(address, current.types if current is not None else ())
    if current is None:
        try:
            contact_id = await insert_contact(conn, tenant_id, account_id, fields, types, actor.name)
        except InvalidInput as exc:
            raise in_magento_words(exc) from None
    else:
        contact_id = current.id
        await contacts_repo.update(conn, tenant_id, account_id, contact_id, fields, actor.name)
        await contacts_repo.replace_types(conn, tenant_id, account_id, contact_id, types)
    extras = AddressExtras(
        region_id=address.region_id,
        region=address.region,
        prefix=address.prefix,
        suffix=address.suffix,
        vat_id=address.vat_id,
    )
    await repo.save_address_extras(conn, tenant_id, account_id, contact_id, extras)
    return contact_id


async def save_addresses(
    conn: Connection, tenant_id: int, account_id: int, customer: MagentoCustomerInput, actor: Actor
) -> None:
    """A customer's save: its address list when sent, then the default addresses it names."""
    if customer.addresses is not None:
        await _replace_addresses(conn, tenant_id, account_id, customer.addresses, actor)
    await set_defaults(conn, tenant_id, account_id, customer)


async def set_defaults(conn: Connection, tenant_id: int, account_id: int, customer: MagentoCustomerInput) -> None:
    """The customer's `default_billing` / `default_shipping`, when it names them, among its saved addresses."""
    await _set_default(conn, tenant_id, account_id, "Billing", customer.default_billing)
    await _set_default(conn, tenant_id, account_id, "Shipping", customer.default_shipping)


async def _replace_addresses(
    conn: Connection, tenant_id: int, account_id: int, addresses: tuple[MagentoAddressInput, ...], actor: Actor
) -> None:
    """Magento's save: addresses with an id are updated, those without are added, and the customer's
    addresses left out of the list are deleted."""
    current = {contact.id: contact for contact in await contacts_repo.list_for_account(conn, tenant_id, account_id)}
    kept: set[int] = set()
    for address in addresses:
        existing = None
        if address.id is not None:
            existing = current.get(address.id)
            if existing is None:
                raise no_such_entity("addressId", address.id)
        kept.add(await save_address(conn, tenant_id, account_id, address, existing, actor))
    for contact_id in set(current) - kept:
        await contacts_repo.delete(conn, tenant_id, account_id, contact_id)


async def _set_default(
    conn: Connection, tenant_id: int, account_id: int, type_name: str, address_id: str | None
) -> None:
    """`default_billing` / `default_shipping` given as an address id: that address becomes the primary one."""
    if address_id is None or address_id == "":
        return
    contact = await contacts_repo.get(conn, tenant_id, account_id, int(address_id)) if address_id.isdigit() else None
    if contact is None:
        raise no_such_entity("addressId", address_id)
    types = {t.name: t.is_primary for t in contact.types}
    types[type_name] = True
    await contacts_repo.replace_types(conn, tenant_id, account_id, contact.id, list(types.items()))
