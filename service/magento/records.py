"""Magento's stores, customers and addresses as the Magento capability hands them out.

Typed values in Magento's vocabulary (a website is a customer set, a store view a site); the Magento
surface renders them in Magento's wire shapes. A customer and an address are Gatehouse's account and
contact plus the few fields only Magento has (`CustomerExtras`, `AddressExtras`).
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from service.accounts.records import Contact, ContactFields


class Store(msgspec.Struct, frozen=True, kw_only=True):
    """A site, as the store view it is in Magento; its customer set is the website."""

    id: int
    code: str
    name: str
    website_id: int
    website_code: str
    is_default: bool  # the tenant's default site


class Website(msgspec.Struct, frozen=True, kw_only=True):
    """A customer set, as Magento's website."""

    id: int
    code: str
    name: str


class StoreGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A customer set as the one store group of its website: Gatehouse has no groups of their own, so a
    group has its website's id, code and name."""

    id: int
    code: str
    name: str
    default_store_id: int  # 0: the website has no site


class CustomerExtras(msgspec.Struct, frozen=True, kw_only=True):
    """A customer's fields that only Magento has. Accounts made elsewhere read with Magento's defaults."""

    store_id: int | None  # the store view it was created in; None: none (the admin store)
    created_in: str  # that store view's name at the time, as Magento keeps it
    group_id: int
    disable_auto_group_change: int  # 0 or 1, as Magento writes it
    prefix: str | None = None
    middlename: str | None = None
    suffix: str | None = None
    dob: date | None = None
    gender: int | None = None


class AddressExtras(msgspec.Struct, frozen=True, kw_only=True):
    """An address's fields that only Magento has; the region's code is the contact's state or province."""

    region_id: int | None = None
    region: str | None = None  # the region's name
    prefix: str | None = None
    suffix: str | None = None
    vat_id: str | None = None


def telephone(fields: ContactFields) -> str | None:
    """Magento has one telephone: a contact's home phone, else its mobile, else its work phone."""
    return fields.phone_home or fields.phone_mobile or fields.phone_work


class MagentoAddress(msgspec.Struct, frozen=True, kw_only=True):
    contact: Contact
    extras: AddressExtras

    @property
    def telephone(self) -> str | None:
        return telephone(self.contact.fields)


class MagentoCustomer(msgspec.Struct, frozen=True, kw_only=True):
    """A customer account as Magento's customer: its website is the account's customer set."""

    id: int
    website_id: int
    website_code: str
    email: str | None
    firstname: str | None
    lastname: str | None
    taxvat: str | None
    is_subscribed: bool
    created_at: datetime
    updated_at: datetime
    extras: CustomerExtras
    default_billing: int | None  # the id of the primary Billing contact
    default_shipping: int | None  # the id of the primary Shipping contact
    addresses: tuple[MagentoAddress, ...]


class CustomerPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[MagentoCustomer, ...]
    total_count: int
