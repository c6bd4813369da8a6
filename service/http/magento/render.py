"""Magento's stores, customers and addresses in Magento's wire shapes.

As Magento answers: snake_case keys, nulls left out, times as `YYYY-MM-DD HH:MM:SS` in UTC. Magento
has an admin store, website and store group (id 0) beside the tenant's own; Gatehouse has no catalog,
so every store group names Magento's "Default Category".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.magento.records import CustomerPage, MagentoAddress, MagentoCustomer, Store, StoreGroup, Website
from service.magento.search import SearchCriteria

ADMIN_STORE = {"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1}
ADMIN_WEBSITE = {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0}
ADMIN_GROUP = {
    "id": 0,
    "website_id": 0,
    "root_category_id": 0,
    "default_store_id": 0,
    "name": "Default",
    "code": "default",
}
ROOT_CATEGORY_ID = 2  # Magento's "Default Category"


def magento_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def address_body(address: MagentoAddress) -> dict[str, Any]:
    """A contact as Magento's AddressInterface. Defaults are marked only where true, as Magento does."""
    contact, fields, extras = address.contact, address.contact.fields, address.extras
    types = {t.name: t.is_primary for t in contact.types}
    region_code = fields.state_or_province
    region_id = extras.region_id or 0
    street = [line for line in (fields.address1, fields.address2, fields.address3, fields.address4) if line is not None]
    return _without_nulls(
        {
            "id": contact.id,
            "customer_id": contact.account_id,
            "region": {"region_code": region_code, "region": extras.region or region_code, "region_id": region_id},
            "region_id": region_id,
            "country_id": fields.country_code,
            "street": street,
            "company": fields.company_or_organization,
            "telephone": address.telephone,
            "fax": fields.fax_number,
            "postcode": fields.postal_or_zip_code,
            "city": fields.city_or_town,
            "firstname": fields.first_name,
            "lastname": fields.last_name_or_surname,
            "middlename": fields.middle_name_or_initial,
            "prefix": extras.prefix,
            "suffix": extras.suffix,
            "vat_id": extras.vat_id,
            "default_shipping": True if types.get("Shipping") else None,
            "default_billing": True if types.get("Billing") else None,
        }
    )


def customer_body(customer: MagentoCustomer) -> dict[str, Any]:
    """A customer account as Magento's CustomerInterface."""
    extras = customer.extras
    return _without_nulls(
        {
            "id": customer.id,
            "group_id": extras.group_id,
            "default_billing": str(customer.default_billing) if customer.default_billing is not None else None,
            "default_shipping": str(customer.default_shipping) if customer.default_shipping is not None else None,
            "created_at": magento_time(customer.created_at),
            "updated_at": magento_time(customer.updated_at),
            "created_in": extras.created_in,
            "dob": extras.dob.isoformat() if extras.dob is not None else None,
            "email": customer.email,
            "firstname": customer.firstname,
            "lastname": customer.lastname,
            "middlename": extras.middlename,
            "prefix": extras.prefix,
            "suffix": extras.suffix,
            "gender": extras.gender,
            "store_id": extras.store_id,
            "taxvat": customer.taxvat,
            "website_id": customer.website_id,
            "addresses": [address_body(address) for address in customer.addresses],
            "disable_auto_group_change": extras.disable_auto_group_change,
            "extension_attributes": {"is_subscribed": customer.is_subscribed},
        }
    )


def search_body(page: CustomerPage, criteria: SearchCriteria) -> dict[str, Any]:
    """Magento's CustomerSearchResults: the page, and the criteria repeated as Magento echoes them."""
    return {
        "items": [customer_body(c) for c in page.items],
        "search_criteria": _criteria_body(criteria),
        "total_count": page.total_count,
    }


def _criteria_body(criteria: SearchCriteria) -> dict[str, Any]:
    body: dict[str, Any] = {
        "filter_groups": [
            {
                "filters": [
                    _without_nulls({"field": f.field, "value": f.value, "condition_type": f.condition_type})
                    for f in group
                ]
            }
            for group in criteria.filter_groups
        ]
    }
    if criteria.sort_orders:
        body["sort_orders"] = [{"field": f, "direction": d} for f, d in criteria.sort_orders]
    if criteria.page_size is not None:
        body["page_size"] = criteria.page_size
    if criteria.current_page is not None:
        body["current_page"] = criteria.current_page
    return body


def _store_view_body(store: Store) -> dict[str, Any]:
    """A site as a store view. Its customer set is both its website and its (only) store group."""
    return {
        "id": store.id,
        "code": store.code,
        "name": store.name,
        "website_id": store.website_id,
        "store_group_id": store.website_id,
        "is_active": 1,
    }


def store_views_body(stores: list[Store]) -> list[dict[str, Any]]:
    """The default store view first, then the admin store, then the others."""
    default = [_store_view_body(s) for s in stores if s.is_default]
    return [*default, ADMIN_STORE, *(_store_view_body(s) for s in stores if not s.is_default)]


def websites_body(websites: list[Website]) -> list[dict[str, Any]]:
    return [ADMIN_WEBSITE, *({"id": w.id, "code": w.code, "name": w.name, "default_group_id": w.id} for w in websites)]


def store_groups_body(groups: list[StoreGroup]) -> list[dict[str, Any]]:
    return [
        ADMIN_GROUP,
        *(
            {
                "id": g.id,
                "website_id": g.id,
                "root_category_id": ROOT_CATEGORY_ID,
                "default_store_id": g.default_store_id,
                "name": g.name,
                "code": g.code,
            }
            for g in groups
        ),
    ]
