"""Kibo's customer-account models, as request bodies.

Every field of Kibo's own models is accepted, because Kibo clients send whole objects back. A field
outside the model, a wrong type or an over-long value is a 400. Every accepted field is kept, or is
a read-only echo of what Gatehouse shows and ignored (`id`, `accountId`, `userId`, `auditInfo`,
`commerceSummary`, `isAnonymous`, `hasExternalPassword`, `last2FaDate`, `migrationRequired`), or
is refused with a 400 naming it when it says what Gatehouse would not keep (`service.http.kibo.unstored`:
notes, attributes, segments, another customer set or lock state, changed contacts on an update,
password imports, a session's fields on Bulk).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

Short = Annotated[str, msgspec.Meta(max_length=100)]
Medium = Annotated[str, msgspec.Meta(max_length=255)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
IntId = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]


class KiboModel(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True, omit_defaults=False):
    pass


class AuditInfo(KiboModel):
    create_date: datetime | None = None
    create_by: str | None = None
    update_date: datetime | None = None
    update_by: str | None = None


class ContactType(KiboModel):
    name: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    is_primary: bool | None = None


class PhoneNumbers(KiboModel):
    home: Short | None = None
    mobile: Short | None = None
    work: Short | None = None


class Address(KiboModel):
    address1: Medium | None = None
    address2: Medium | None = None
    address3: Medium | None = None
    address4: Medium | None = None
    city_or_town: Short | None = None
    state_or_province: Short | None = None
    postal_or_zip_code: Short | None = None
    country_code: Annotated[str, msgspec.Meta(max_length=3)] | None = None
    address_type: Short | None = None
    is_validated: bool | None = None


class CustomerContact(KiboModel):
    id: IntId | None = None
    account_id: IntId | None = None
    types: Annotated[list[ContactType], msgspec.Meta(max_length=2)] | None = None
    audit_info: AuditInfo | None = None
    fax_number: Short | None = None
    label: Short | None = None
    email: Email | None = None
    first_name: Short | None = None
    middle_name_or_initial: Short | None = None
    last_name_or_surname: Short | None = None
    company_or_organization: Medium | None = None
    phone_numbers: PhoneNumbers | None = None
    address: Address | None = None


class CustomerAccount(KiboModel):
    id: IntId | None = None
    email_address: Email | None = None
    user_name: Short | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    locale_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    user_id: Short | None = None
    is_anonymous: bool | None = None
    is_locked: bool | None = None
    is_active: bool | None = None
    accepts_marketing: bool | None = None
    has_external_password: bool | None = None
    last2_fa_date: datetime | None = msgspec.field(default=None, name="last2FaDate")
    customer_set: Short | None = None
    commerce_summary: dict[str, Any] | None = None
    contacts: Annotated[list[CustomerContact], msgspec.Meta(max_length=100)] | None = None
    company_or_organization: Medium | None = None
    notes: list[dict[str, Any]] | None = None
    attributes: list[dict[str, Any]] | None = None
    segments: list[dict[str, Any]] | None = None
    tax_exempt: bool | None = None
    tax_id: Short | None = None
    external_id: Short | None = None
    audit_info: AuditInfo | None = None
    customer_since_date: datetime | None = None
    account_type: Short | None = None
    migration_required: bool | None = None


Minutes = Annotated[int, msgspec.Meta(ge=1, le=525_600)]


class RequestedDurations(KiboModel):
    """Token lifetimes a caller may ask for (Kibo's docs); they need `customer-auth:configure-token-durations`."""

    auth_ticket_duration_minutes: Minutes | None = None
    refresh_token_duration_minutes: Minutes | None = None


class CustomerAccountAndAuthInfo(RequestedDurations):
    account: CustomerAccount | None = None
    password: Password | None = None
    external_password: Password | None = None
    is_import: bool | None = None
    fingerprint: Medium | None = None
    region: Short | None = None


class CustomerUserAuthInfo(RequestedDurations):
    username: Email | None = None
    password: Password | None = None
    account_id: IntId | None = None
    fingerprint: Medium | None = None
    region: Short | None = None


class CustomerLoginInfo(RequestedDurations):
    email_address: Email | None = None
    username: Short | None = None
    password: Password | None = None
    external_password: Password | None = None
    is_import: bool | None = None
    fingerprint: Medium | None = None
    region: Short | None = None


class CustomerPasswordInfo(KiboModel):
    old_password: Password | None = None
    new_password: Password | None = None
    external_password: Password | None = None


class CustomerResetPasswordInfo(KiboModel):
    email_address: Email | None = None
    user_name: Short | None = None
    customer_set_code: Short | None = None


class ConfirmationInfo(KiboModel):
    user_name: Short | None = None
    confirmation_code: Medium | None = None
    new_password: Password | None = None


class AuthTicket2FAInfo(KiboModel):
    user_id: Short | None = None
    otp_code: Short | None = None


class OtpRequest(KiboModel):
    email: Email | None = None


class AuthTicketOtpInfo(KiboModel):
    email: Email | None = None
    otp_code: Short | None = None
    region: Short | None = None
    fingerprint: Medium | None = None


class PasswordConfirmation(KiboModel):
    """Gatehouse's own: a customer re-enters their password before changing their second factors."""

    password: Password


class AuthenticatorConfirmation(KiboModel):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
