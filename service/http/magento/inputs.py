"""Magento's request bodies as the Magento capability's typed inputs.

Gatehouse keeps no custom attributes and no extension attributes but a customer's `is_subscribed`:
any other, sent with a value, is refused by name rather than dropped.
"""

from __future__ import annotations

from typing import Any

from service.http.magento.models import AddressIn, CustomerIn, RegionIn, parse_dob
from service.magento.errors import invalid_value, not_kept
from service.magento.inputs import MagentoAddressInput, MagentoCustomerInput

_SUBSCRIBED = ("is_subscribed",)


def _refuse_attributes(
    where: str, custom: list[dict[str, Any]] | None, extension: dict[str, Any] | None, kept: tuple[str, ...] = ()
) -> None:
    if custom:
        raise not_kept(f"{where}custom_attributes")
    for key in extension or {}:
        if key not in kept:
            raise not_kept(f"{where}extension_attributes.{key}")


def _region_id(address: AddressIn, region: RegionIn | None) -> int | None:
    """`region_id` may come beside `region` and inside it; sent twice, it must say one thing."""
    inner = region.region_id if region else None
    if inner is not None and address.region_id is not None and inner != address.region_id:
        raise invalid_value("region_id", address.region_id)
    return inner or address.region_id


def _is_subscribed(extension: dict[str, Any] | None) -> bool | None:
    """Magento reads is_subscribed as a boolean, or as 0/1 in a number or a string."""
    value = (extension or {}).get("is_subscribed")
    if value is None or isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1") and not isinstance(value, float):
        return value in (1, "1")
    raise invalid_value("is_subscribed", value)


def address_input(address: AddressIn) -> MagentoAddressInput:
    """The region is read from `region {...}` and/or `region_id`; its code, else its name, is what a contact keeps."""
    region = address.region
    _refuse_attributes("addresses.", address.custom_attributes, address.extension_attributes)
    _refuse_attributes("addresses.region.", None, region.extension_attributes if region else None)
    region_name = region.region if region else None
    return MagentoAddressInput(
        id=address.id,
        firstname=address.firstname,
        lastname=address.lastname,
        middlename=address.middlename,
        prefix=address.prefix,
        suffix=address.suffix,
        company=address.company,
        street=tuple(address.street) if address.street is not None else None,
        city=address.city,
        postcode=address.postcode,
        country_id=address.country_id,
        region_code=(region.region_code if region else None) or region_name,
        region=region_name,
        region_id=_region_id(address, region),
        telephone=address.telephone,
        fax=address.fax,
        vat_id=address.vat_id,
        default_billing=address.default_billing,
        default_shipping=address.default_shipping,
    )


def customer_input(customer: CustomerIn) -> MagentoCustomerInput:
    """Read-only fields (id, times, created_in, confirmation) are left behind."""
    _refuse_attributes("", customer.custom_attributes, customer.extension_attributes, _SUBSCRIBED)
    addresses = customer.addresses
    return MagentoCustomerInput(
        email=customer.email,
        firstname=customer.firstname,
        lastname=customer.lastname,
        middlename=customer.middlename,
        prefix=customer.prefix,
        suffix=customer.suffix,
        dob=parse_dob(customer.dob),
        gender=customer.gender,
        taxvat=customer.taxvat,
        is_subscribed=_is_subscribed(customer.extension_attributes),
        group_id=customer.group_id,
        disable_auto_group_change=customer.disable_auto_group_change,
        store_id=customer.store_id,
        website_id=customer.website_id,
        default_billing=customer.default_billing,
        default_shipping=customer.default_shipping,
        addresses=tuple(address_input(address) for address in addresses) if addresses is not None else None,
    )
