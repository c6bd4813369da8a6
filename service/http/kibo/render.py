"""Gatehouse's records in Kibo's wire shapes: camelCase, Kibo's dates, Kibo's collection envelope."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, overload

from service.accounts.records import Account, Audited, Contact, LoginState
from service.sessions.issuer import CustomerTicket


@overload
def kibo_datetime(moment: datetime) -> str: ...
@overload
def kibo_datetime(moment: None) -> None: ...
@overload
def kibo_datetime(moment: datetime | None) -> str | None: ...
def kibo_datetime(moment: datetime | None) -> str | None:
    """Kibo's format; its older SDKs parse exactly `%Y-%m-%dT%H:%M:%S.%fZ`."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def kibo_datetime_ms(epoch_ms: int) -> str:
    return kibo_datetime(datetime.fromtimestamp(epoch_ms / 1000, UTC))


def collection(items: list[Any], start_index: int, page_size: int, total_count: int) -> dict[str, Any]:
    return {
        "startIndex": start_index,
        "pageSize": page_size,
        "pageCount": math.ceil(total_count / page_size) if page_size else 0,
        "totalCount": total_count,
        "items": items,
    }


_NO_COMMERCE = {
    "totalOrderAmount": {"currencyCode": None, "amount": 0},
    "orderCount": 0,
    "lastOrderDate": None,
    "wishlistCount": 0,
    "visitsCount": 0,
}


def audit_info(record: Audited) -> dict[str, Any]:
    """Kibo's AdminUserAuditInfo."""
    return {
        "createDate": kibo_datetime(record.created_at),
        "createBy": record.created_by,
        "updateDate": kibo_datetime(record.updated_at),
        "updateBy": record.updated_by,
    }


def account_body(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "emailAddress": account.email_address,
        "userName": account.user_name,
        "firstName": account.first_name,
        "lastName": account.last_name,
        "localeCode": account.locale_code,
        "userId": account.user_id,
        "isAnonymous": False,
        "isLocked": account.is_locked,
        "isActive": account.is_active,
        "acceptsMarketing": account.accepts_marketing,
        "hasExternalPassword": False,
        "last2FaDate": kibo_datetime(account.last_2fa_date),
        "customerSet": account.customer_set_code,
        "commerceSummary": _NO_COMMERCE,
        "contacts": [contact_body(contact) for contact in account.contacts],
        "companyOrOrganization": account.company_or_organization,
        "notes": [],
        "attributes": [],
        "segments": [],
        "taxExempt": account.tax_exempt,
        "taxId": account.tax_id,
        "externalId": account.external_id,
        "auditInfo": audit_info(account),
        "customerSinceDate": kibo_datetime(account.customer_since_date),
        "accountType": account.account_type,
        "migrationRequired": False,
    }


def contact_body(contact: Contact) -> dict[str, Any]:
    f = contact.fields
    return {
        "id": contact.id,
        "accountId": contact.account_id,
        "types": [{"name": t.name, "isPrimary": t.is_primary} for t in contact.types],
        "auditInfo": audit_info(contact),
        "faxNumber": f.fax_number,
        "label": f.label,
        "email": f.email,
        "firstName": f.first_name,
        "middleNameOrInitial": f.middle_name_or_initial,
        "lastNameOrSurname": f.last_name_or_surname,
        "companyOrOrganization": f.company_or_organization,
        "phoneNumbers": {"home": f.phone_home, "mobile": f.phone_mobile, "work": f.phone_work},
        "address": {
            "address1": f.address1,
            "address2": f.address2,
            "address3": f.address3,
            "address4": f.address4,
            "cityOrTown": f.city_or_town,
            "stateOrProvince": f.state_or_province,
            "postalOrZipCode": f.postal_or_zip_code,
            "countryCode": f.country_code,
            "addressType": f.address_type,
            "isValidated": f.is_validated,
        },
    }


def login_state_body(state: LoginState) -> dict[str, Any]:
    return {
        "isPasswordChangeRequired": state.is_password_change_required,
        "lastPasswordChangeOn": kibo_datetime(state.last_password_change_on),
        "isLocked": state.is_locked,
        "lastLockedOn": kibo_datetime(state.last_locked_on),
        "failedLoginAttemptCount": state.failed_login_attempt_count,
        "remainingLoginAttempts": state.remaining_login_attempts,
        "firstFailedLoginAttemptOn": kibo_datetime(state.first_failed_login_attempt_on),
        "lastLoginOn": kibo_datetime(state.last_login_on),
        "createdOn": kibo_datetime(state.created_on),
        "updatedOn": kibo_datetime(state.updated_on),
    }


def ticket_body(ticket: CustomerTicket) -> dict[str, Any]:
    """Kibo's CustomerAuthTicket, plus `requires2FA`."""
    refresh_expires = ticket.refresh_expires_ms
    return {
        "accessToken": ticket.access_token,
        "accessTokenExpiration": kibo_datetime_ms(ticket.access_expires_ms),
        "jwtAccessToken": ticket.jwt_access_token,
        "refreshToken": ticket.refresh_token,
        "refreshTokenExpiration": kibo_datetime_ms(refresh_expires) if refresh_expires is not None else None,
        "userId": ticket.user_id,
        "requires2FA": ticket.requires_second_factor,
        "customerAccount": account_body(ticket.account) if ticket.account is not None else None,
    }
