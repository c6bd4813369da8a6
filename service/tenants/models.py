"""Admin API shapes for tenants, customer sets and sites."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Code = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Lower-case letters, digits and _; starts with a letter."
    ),
]


class _In(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    pass


class _Out(msgspec.Struct, rename="camel", kw_only=True):
    pass


class TenantCreate(_In):
    name: Name


class TenantUpdate(_In):
    name: Name


class Tenant(_Out):
    id: int
    name: str
    default_site_id: int
    created_at: datetime
    updated_at: datetime


class CustomerSetCreate(_In):
    code: Code
    name: Name


class CustomerSetUpdate(_In):
    name: Name


class CustomerSet(_Out):
    id: int
    tenant_id: int
    code: str
    name: str
    created_at: datetime
    updated_at: datetime


class SiteCreate(_In):
    code: Code
    name: Name
    customer_set_code: Code
    is_default: bool = False


class SiteUpdate(_In):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    is_default: bool | msgspec.UnsetType = msgspec.UNSET


class Site(_Out):
    id: int
    tenant_id: int
    code: str
    name: str
    customer_set_id: int
    customer_set_code: str
    is_default: bool
    created_at: datetime
    updated_at: datetime


class SiteScope(msgspec.Struct, frozen=True, kw_only=True):
    """A site as a customer-facing call works in it: its customer set, and the tenant's stored settings."""

    site_id: int
    customer_set_id: int
    customer_set_code: str
    settings: dict[str, Any]
