"""Magento's request bodies as the Magento capability's typed inputs."""

from __future__ import annotations

from service.http.magento.models import AddressIn, CustomerIn, parse_dob
from service.magento.inputs import MagentoAddressInput, MagentoCustomerInput


def address_input(address: AddressIn) -> MagentoAddressInput:
    """The region is read from `region {...}` and/or `region_id`; its code, else its name, is what a contact keeps."""
    region = address.region
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
        region_id=(region.region_id if region else None) or address.region_id,
        telephone=address.telephone,
        fax=address.fax,
        vat_id=address.vat_id,
        default_billing=address.default_billing,
        default_shipping=address.default_shipping,
    )


def customer_input(customer: CustomerIn) -> MagentoCustomerInput:
    """Read-only fields (id, times, created_in, confirmation) and custom attributes are left behind."""
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
        is_subscribed=customer.is_subscribed,
        group_id=customer.group_id,
        disable_auto_group_change=customer.disable_auto_group_change,
        store_id=customer.store_id,
        website_id=customer.website_id,
        default_billing=customer.default_billing,
        default_shipping=customer.default_shipping,
        addresses=tuple(address_input(address) for address in addresses) if addresses is not None else None,
    )
