"""Magento's request bodies.

Magento reads body keys in camelCase or snake_case alike (`defaultBilling` and `default_billing`
both call setDefaultBilling), so bodies are decoded by hand: keys are folded to snake_case, then the
result is checked against these structs. Unknown keys and wrong types are a 400.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeVar

import msgspec

from service.magento.errors import invalid_request, invalid_value, repeated_key, required

Text = Annotated[str, msgspec.Meta(max_length=255)]
Short = Annotated[str, msgspec.Meta(max_length=100)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
IntId = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
SmallInt = Annotated[int, msgspec.Meta(ge=0, le=32767)]

T = TypeVar("T", bound=msgspec.Struct)


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
    """CustomerInterface. Read-only fields (ids, times, created_in, confirmation) are accepted and ignored; so are
    group_id and disable_auto_group_change from a customer, and a customer's own store_id and website_id, as
    Magento ignores them there. What else Gatehouse cannot keep is refused (`service.http.magento.inputs`)."""

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
    extension_attributes: dict[str, Any] | None = None  # is_subscribed only; any other key is refused
    custom_attributes: list[dict[str, Any]] | None = None  # none kept: refused unless empty


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
        folded: dict[str, Any] = {}
        for key, item in value.items():
            name = snake_case(key)
            if name in folded:  # `defaultBilling` and `default_billing`: either could be meant
                raise repeated_key(name)
            folded[name] = _snake_keys(item, depth + 1)
        return folded
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
