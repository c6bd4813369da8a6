"""Kibo's request bodies as the capabilities' typed inputs."""

from __future__ import annotations

from service.accounts.creation import NewAccount
from service.accounts.records import AccountChanges, ContactFields, NewContact
from service.http.kibo.models import CustomerAccount, CustomerContact


def account_changes(account: CustomerAccount) -> AccountChanges:
    return AccountChanges(
        email_address=account.email_address,
        user_name=account.user_name,
        first_name=account.first_name,
        last_name=account.last_name,
        locale_code=account.locale_code,
        company_or_organization=account.company_or_organization,
        tax_exempt=account.tax_exempt,
        tax_id=account.tax_id,
        external_id=account.external_id,
        accepts_marketing=account.accepts_marketing,
        account_type=account.account_type,
        is_active=account.is_active,
        customer_since_date=account.customer_since_date,
    )


def new_contact(contact: CustomerContact) -> NewContact:
    phones, address = contact.phone_numbers, contact.address
    fields = ContactFields(
        label=contact.label,
        email=contact.email,
        first_name=contact.first_name,
        middle_name_or_initial=contact.middle_name_or_initial,
        last_name_or_surname=contact.last_name_or_surname,
        company_or_organization=contact.company_or_organization,
        fax_number=contact.fax_number,
        phone_home=phones.home if phones else None,
        phone_mobile=phones.mobile if phones else None,
        phone_work=phones.work if phones else None,
        address1=address.address1 if address else None,
        address2=address.address2 if address else None,
        address3=address.address3 if address else None,
        address4=address.address4 if address else None,
        city_or_town=address.city_or_town if address else None,
        state_or_province=address.state_or_province if address else None,
        postal_or_zip_code=address.postal_or_zip_code if address else None,
        country_code=address.country_code if address else None,
        address_type=address.address_type if address else None,
        is_validated=address.is_validated if address else None,
    )
    types = tuple((entry.name, bool(entry.is_primary)) for entry in contact.types or [])
    return NewContact(fields=fields, types=types)


def new_account(account: CustomerAccount, password_hash: str | None = None) -> NewAccount:
    contacts = tuple(new_contact(contact) for contact in account.contacts or [])
    return NewAccount(changes=account_changes(account), contacts=contacts, password_hash=password_hash)
