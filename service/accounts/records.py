"""Customer accounts, their contacts and logins as the capability hands them out and takes them in.

Typed values in Gatehouse's own terms; each HTTP surface renders them in its wire shape (Kibo's
CustomerAccount, Magento's customer) and maps its bodies to the inputs here. Structs rather than
dataclasses because a session carries an `Account` snapshot, encoded with msgspec.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class ContactType(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # "Billing" or "Shipping"
    is_primary: bool


class Audited(msgspec.Struct, frozen=True, kw_only=True):
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class ContactFields(msgspec.Struct, frozen=True, kw_only=True):
    """The editable part of a contact: what a caller sends, and what a contact holds."""

    label: str | None = None
    email: str | None = None
    first_name: str | None = None
    middle_name_or_initial: str | None = None
    last_name_or_surname: str | None = None
    company_or_organization: str | None = None
    fax_number: str | None = None
    phone_home: str | None = None
    phone_mobile: str | None = None
    phone_work: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    address4: str | None = None
    city_or_town: str | None = None
    state_or_province: str | None = None
    postal_or_zip_code: str | None = None
    country_code: str | None = None
    address_type: str | None = None
    is_validated: bool | None = None


class NewContact(msgspec.Struct, frozen=True, kw_only=True):
    """A contact to add or to replace one with: its fields and its Billing/Shipping types as sent."""

    fields: ContactFields
    types: tuple[tuple[str | None, bool], ...] = ()  # (type name as sent, primary?); checked by the capability


class Contact(Audited, frozen=True, kw_only=True):
    id: int
    account_id: int
    fields: ContactFields
    types: tuple[ContactType, ...]


class AccountChanges(msgspec.Struct, frozen=True, kw_only=True):
    """Editable account fields. On an update, a field left as None keeps its current value."""

    email_address: str | None = None
    user_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale_code: str | None = None
    company_or_organization: str | None = None
    tax_exempt: bool | None = None
    tax_id: str | None = None
    external_id: str | None = None
    accepts_marketing: bool | None = None
    account_type: str | None = None
    is_active: bool | None = None  # an inactive account cannot log in
    customer_since_date: datetime | None = None  # imports bring the date the shop first knew the customer


class Account(Audited, frozen=True, kw_only=True):
    id: int
    customer_set_code: str
    email_address: str | None
    user_name: str | None
    first_name: str | None
    last_name: str | None
    locale_code: str | None
    company_or_organization: str | None
    tax_exempt: bool
    tax_id: str | None
    external_id: str | None
    accepts_marketing: bool
    account_type: str | None
    is_active: bool
    customer_since_date: datetime
    last_2fa_date: datetime | None
    user_id: str | None  # the login's id; None when the account has no login
    is_locked: bool  # locked by an admin (lockouts after failed logins live in Redis)
    contacts: tuple[Contact, ...] = ()

    @property
    def login_name(self) -> str:
        """What the customer logs in with, as sessions and tokens show it."""
        return self.email_address or self.user_name or ""


class AccountPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Account, ...]
    total_count: int


class LoginState(msgspec.Struct, frozen=True, kw_only=True):
    is_password_change_required: bool
    last_password_change_on: datetime | None
    is_locked: bool
    last_locked_on: datetime | None
    failed_login_attempt_count: int
    remaining_login_attempts: int
    first_failed_login_attempt_on: datetime | None
    last_login_on: datetime | None
    created_on: datetime
    updated_on: datetime


class Login(msgspec.Struct, frozen=True, kw_only=True):
    account_id: int
    user_id: str
    is_locked: bool
    is_password_change_required: bool
    last_password_change_on: datetime
    last_locked_on: datetime | None
    last_login_on: datetime | None
    created_at: datetime
    updated_at: datetime


class LoginCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """An account as a login sees it: with its password hash (which never leaves the capabilities)."""

    account: Account
    password_hash: str | None  # None: the account has no login
    last_region: str | None
    has_authenticator: bool
