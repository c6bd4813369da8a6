"""A Magento customer and address as a caller sends them, in Magento's field names.

The Magento surface reads Magento's bodies into these; the capability checks what Magento requires
and maps them to Gatehouse's account and contact fields. On an update, a field left as None keeps its
current value.
"""

from __future__ import annotations

from datetime import date

import msgspec


class MagentoAddressInput(msgspec.Struct, frozen=True, kw_only=True):
    id: int | None = None  # None: a new address
    firstname: str | None = None
    lastname: str | None = None
    middlename: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    company: str | None = None
    street: tuple[str, ...] | None = None
    city: str | None = None
    postcode: str | None = None
    country_id: str | None = None
    region_code: str | None = None  # the region's code, else its name: the contact's state or province
    region: str | None = None  # the region's name
    region_id: int | None = None
    telephone: str | None = None
    fax: str | None = None
    vat_id: str | None = None
    default_billing: bool | None = None  # true: the primary billing address; false: no longer it
    default_shipping: bool | None = None


class MagentoCustomerInput(msgspec.Struct, frozen=True, kw_only=True):
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    middlename: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    dob: date | None = None
    gender: int | None = None
    taxvat: str | None = None
    is_subscribed: bool | None = None
    group_id: int | None = None  # honoured from admins only
    disable_auto_group_change: int | None = None  # honoured from admins only
    store_id: int | None = None
    website_id: int | None = None
    default_billing: str | None = None  # an address id, as Magento sends it
    default_shipping: str | None = None
    addresses: tuple[MagentoAddressInput, ...] | None = None  # None: left out; on an update, the list is kept
