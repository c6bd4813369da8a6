"""Magento's request bodies and response shapes.

Magento reads body keys in camelCase or snake_case alike (`defaultBilling` and `default_billing`
both call setDefaultBilling), so bodies are decoded by hand: keys are folded to snake_case, then the
result is checked against these structs. Unknown keys and wrong types are a 400. Responses are
snake_case, leave out what is null, and write times as `YYYY-MM-DD HH:MM:SS` in UTC, as Magento does.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Annotated, Any, TypeVar

import msgspec

from service.magento.errors import invalid_request, invalid_value, required

Text = Annotated[str, msgspec.Meta(max_length=255)]
Short = Annotated[str, msgspec.Meta(max_length=100)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
IntId = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
SmallInt = Annotated[int, msgspec.Meta(ge=0, le=32767)]

T = TypeVar("T")


class _In(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class RegionIn(_In):
    region_code: Short | None = None
    region: Short | None = None
    region_id: IntId | None = None
    extension_attributes: dict[str, Any] | None = None


class AddressIn(_In):
    id: IntId | None = None
    customer_id: IntId | None = None
    region: RegionIn | None = None
    region_id: IntId | None = None
    country_id: Annotated[str, msgspec.Meta(max_length=3)] | None = None
    street: Annotated[list[Text], msgspec.Meta(max_length=4)] | None = None
    company: Text | None = None
    telephone: Short | None = None
    fax: Short | None = None
    postcode: Short | None = None
    city: Short | None = None
    firstname: Short | None = None
    lastname: Short | None = None
    middlename: Short | None = None
    prefix: Short | None = None
    suffix: Short | None = None
    vat_id: Short | None = None
    default_shipping: bool | None = None
    default_billing: bool | None = None
    custom_attributes: list[dict[str, Any]] | None = None
    extension_attributes: dict[str, Any] | None = None


class CustomerIn(_In):
    """CustomerInterface. Read-only fields (ids, times, created_in, confirmation) are accepted and ignored."""

    id: IntId | None = None
    group_id: IntId | None = None
    default_billing: Short | None = None
    default_shipping: Short | None = None
    confirmation: Short | None = None
    created_at: Short | None = None
    updated_at: Short | None = None
    created_in: Text | None = None
    dob: Short | None = None
    email: Email | None = None
    firstname: Short | None = None
    lastname: Short | None = None
    middlename: Short | None = None
    prefix: Short | None = None
    suffix: Short | None = None
    gender: SmallInt | None = None
    store_id: IntId | None = None
    taxvat: Short | None = None
    website_id: IntId | None = None
    addresses: Annotated[list[AddressIn], msgspec.Meta(max_length=100)] | None = None
    disable_auto_group_change: Annotated[int, msgspec.Meta(ge=0, le=1)] | None = None
    extension_attributes: dict[str, Any] | None = None
    custom_attributes: list[dict[str, Any]] | None = None

    @property
    def is_subscribed(self) -> bool | None:
        value = (self.extension_attributes or {}).get("is_subscribed")
        return value if isinstance(value, bool) else None


class CustomerCreate(_In):
    customer: CustomerIn
    password: Password | None = None
    redirect_url: Text | None = None


class CustomerSave(_In):
    customer: CustomerIn


class Credentials(_In):
    username: Email
    password: Password


class PasswordChange(_In):
    current_password: Password
    new_password: Password


class EmailAvailability(_In):
    customer_email: Email
    website_id: IntId | None = None


class PasswordResetRequest(_In):
    email: Email
    template: Short
    website_id: IntId | None = None


class PasswordReset(_In):
    email: Email
    reset_token: Text
    new_password: Password


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_case(key: str) -> str:
    return _CAMEL_HUMP.sub(r"_\1", key).lower()


MAX_DEPTH = 16  # the deepest Magento body read here nests 5 levels


def _snake_keys(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise invalid_request("the body nests too deeply")
    if isinstance(value, dict):
        return {snake_case(k): _snake_keys(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v, depth + 1) for v in value]
    return value


def convert(raw: Any, model: type[T]) -> T:
    """A decoded Magento request body as `model`; camelCase keys are read as their snake_case names."""
    if not isinstance(raw, dict):
        raise invalid_request("the body must be a JSON object")
    data = _snake_keys(raw)
    missing = [f.name for f in msgspec.structs.fields(model) if f.required and data.get(f.name) is None]
    if missing:
        raise required(missing[0])
    try:
        return msgspec.convert(data, model, strict=False)
    except msgspec.ValidationError as exc:
        raise invalid_request(str(exc)) from None


def parse_dob(value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise invalid_value("dob", value) from None


# --- responses ------------------------------------------------------------------------------------


def magento_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def telephone(home: str | None, mobile: str | None, work: str | None) -> str | None:
    """Magento has one telephone: a contact's home phone, else its mobile, else its work phone."""
    return home or mobile or work


def address_body(row: Any) -> dict[str, Any]:
    """A contact as Magento's AddressInterface. Defaults are marked only where true, as Magento does."""
    types = {t["name"]: t["is_primary"] for t in row["types"]}
    region_code = row["state_or_province"]
    region_id = row["region_id"] or 0
    street = [line for line in (row["address1"], row["address2"], row["address3"], row["address4"]) if line is not None]
    return _without_nulls({
        "id": row["id"],
        "customer_id": row["account_id"],
        "region": {"region_code": region_code, "region": row["region"] or region_code, "region_id": region_id},
        "region_id": region_id,
        "country_id": row["country_code"],
        "street": street,
        "company": row["company_or_organization"],
        "telephone": telephone(row["phone_home"], row["phone_mobile"], row["phone_work"]),
        "fax": row["fax_number"],
        "postcode": row["postal_or_zip_code"],
        "city": row["city_or_town"],
        "firstname": row["first_name"],
        "lastname": row["last_name_or_surname"],
        "middlename": row["middle_name_or_initial"],
        "prefix": row["prefix"],
        "suffix": row["suffix"],
        "vat_id": row["vat_id"],
        "default_shipping": True if types.get("Shipping") else None,
        "default_billing": True if types.get("Billing") else None,
    })


def customer_body(row: Any, addresses: list[dict[str, Any]]) -> dict[str, Any]:
    """A customer account as Magento's CustomerInterface."""
    return _without_nulls({
        "id": row["id"],
        "group_id": row["group_id"],
        "default_billing": str(row["default_billing"]) if row["default_billing"] is not None else None,
        "default_shipping": str(row["default_shipping"]) if row["default_shipping"] is not None else None,
        "created_at": magento_time(row["created_at"]),
        "updated_at": magento_time(row["updated_at"]),
        "created_in": row["created_in"],
        "dob": row["dob"].isoformat() if row["dob"] is not None else None,
        "email": row["email"],
        "firstname": row["firstname"],
        "lastname": row["lastname"],
        "middlename": row["middlename"],
        "prefix": row["prefix"],
        "suffix": row["suffix"],
        "gender": row["gender"],
        "store_id": row["store_id"],
        "taxvat": row["taxvat"],
        "website_id": row["website_id"],
        "addresses": addresses,
        "disable_auto_group_change": row["disable_auto_group_change"],
        "extension_attributes": {"is_subscribed": row["is_subscribed"]},
    })


ADMIN_STORE = {"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1}
ADMIN_WEBSITE = {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0}
ADMIN_GROUP = {"id": 0, "website_id": 0, "root_category_id": 0, "default_store_id": 0, "name": "Default", "code": "default"}
ROOT_CATEGORY_ID = 2  # Magento's "Default Category"; Gatehouse has no catalog, so every group names it


def store_view_body(site: Any) -> dict[str, Any]:
    """A site as a store view. Its customer set is both its website and its (only) store group."""
    return {
        "id": site["id"], "code": site["code"], "name": site["name"], "website_id": site["customer_set_id"],
        "store_group_id": site["customer_set_id"], "is_active": 1,
    }


def website_body(customer_set: Any) -> dict[str, Any]:
    return {"id": customer_set["id"], "code": customer_set["code"], "name": customer_set["name"],
            "default_group_id": customer_set["id"]}


def store_group_body(customer_set: Any, default_store_id: int) -> dict[str, Any]:
    return {
        "id": customer_set["id"], "website_id": customer_set["id"], "root_category_id": ROOT_CATEGORY_ID,
        "default_store_id": default_store_id, "name": customer_set["name"], "code": customer_set["code"],
    }
