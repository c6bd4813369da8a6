"""Session records written before sessions kept a typed account: their account is Kibo's camelCase body.

Sessions live as long as their refresh tokens (up to the tenant's absolute lifetime), so records written by
an earlier version are still refreshed after an upgrade; this reads their account snapshot. Contacts are
left out: refreshes carry none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from service.accounts.records import Account


class _AuditInfo(msgspec.Struct, rename="camel"):
    create_date: datetime
    create_by: str
    update_date: datetime
    update_by: str


class _KiboAccount(msgspec.Struct, rename="camel"):
    id: int
    audit_info: _AuditInfo
    customer_since_date: datetime
    email_address: str | None = None
    user_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale_code: str | None = None
    user_id: str | None = None
    is_locked: bool = False
    is_active: bool = True
    accepts_marketing: bool = False
    last2_fa_date: datetime | None = msgspec.field(default=None, name="last2FaDate")
    customer_set: str = ""
    company_or_organization: str | None = None
    tax_exempt: bool = False
    tax_id: str | None = None
    external_id: str | None = None
    account_type: str | None = None


def account_from_kibo_body(body: Any) -> Account:
    old = msgspec.convert(body, _KiboAccount)
    audit = old.audit_info
    return Account(
        id=old.id, customer_set_code=old.customer_set, email_address=old.email_address, user_name=old.user_name,
        first_name=old.first_name, last_name=old.last_name, locale_code=old.locale_code,
        company_or_organization=old.company_or_organization, tax_exempt=old.tax_exempt, tax_id=old.tax_id,
        external_id=old.external_id, accepts_marketing=old.accepts_marketing, account_type=old.account_type,
        is_active=old.is_active, customer_since_date=old.customer_since_date, last_2fa_date=old.last2_fa_date,
        user_id=old.user_id, is_locked=old.is_locked, created_at=audit.create_date, created_by=audit.create_by,
        updated_at=audit.update_date, updated_by=audit.update_by,
    )  # fmt: skip
