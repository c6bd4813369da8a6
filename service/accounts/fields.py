"""From typed account changes to the columns an insert or update writes: cleaning, normalising, checking."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import asyncpg

from service.accounts.records import Account, AccountChanges
from service.errors import Conflict, ErrorCode, FieldError, InvalidInput


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def normalize_user_name(user_name: str) -> str:
    return unicodedata.normalize("NFKC", user_name).strip().lower()


def _looks_like_email(email: str) -> bool:
    return email.count("@") == 1 and "." in email.rsplit("@", 1)[1] and " " not in email and len(email) <= 254


def _aware(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC, as Kibo writes its times."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _to_millisecond(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _since(sent: datetime | None, current: Account | None) -> datetime | None:
    """customerSinceDate to the millisecond, as Kibo shows it: the date shown, sent back, is no change (also of a
    date stored to the microsecond by earlier versions)."""
    sent = _aware(sent)
    if sent is None:
        return None
    sent = _to_millisecond(sent)
    if current is not None and _to_millisecond(current.customer_since_date) == sent:
        return current.customer_since_date
    return sent


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def account_columns(changes: AccountChanges, current: Account | None) -> dict[str, Any]:
    """The written columns; a field left as None keeps its current value (or its default on a new account)."""

    def pick(new: Any, name: str, default: Any = None) -> Any:
        if new is not None:
            return new
        return getattr(current, name) if current is not None else default

    email = pick(_clean(changes.email_address), "email_address")
    if email is not None and not _looks_like_email(email):
        raise InvalidInput(
            "emailAddress is not an email address.",
            code=ErrorCode.INVALID_EMAIL,
            field_errors=(FieldError("emailAddress", "is not an email address"),),
        )
    user_name = pick(_clean(changes.user_name), "user_name")
    return {
        "email_address": email,
        "email_normalized": normalize_email(email) if email else None,
        "user_name": user_name,
        "user_name_normalized": normalize_user_name(user_name) if user_name else None,
        "first_name": pick(changes.first_name, "first_name"),
        "last_name": pick(changes.last_name, "last_name"),
        "locale_code": pick(changes.locale_code, "locale_code"),
        "company_or_organization": pick(changes.company_or_organization, "company_or_organization"),
        "tax_exempt": pick(changes.tax_exempt, "tax_exempt", False),
        "tax_id": pick(changes.tax_id, "tax_id"),
        "external_id": pick(changes.external_id, "external_id"),
        "accepts_marketing": pick(changes.accepts_marketing, "accepts_marketing", False),
        "account_type": pick(changes.account_type, "account_type"),
        "is_active": pick(changes.is_active, "is_active", True),
        "customer_since_date": pick(_since(changes.customer_since_date, current), "customer_since_date"),
    }


def changed_columns(columns: dict[str, Any], current: Account) -> list[str]:
    """Which fields an update changed (names only: the audit trail keeps no old values)."""
    return sorted(k for k, v in columns.items() if not k.endswith("_normalized") and v != getattr(current, k))


def duplicate(exc: asyncpg.UniqueViolationError) -> Conflict:
    if "user_name" in (exc.constraint_name or ""):
        return Conflict("Another account in this customer set has this user name.", code=ErrorCode.USERNAME_TAKEN)
    return Conflict("Another account in this customer set has this email address.", code=ErrorCode.EMAIL_TAKEN)


def require_login_name(columns: dict[str, Any]) -> None:
    if not columns["email_normalized"] and not columns["user_name_normalized"]:
        raise InvalidInput("A login needs an emailAddress or a userName.", code=ErrorCode.LOGIN_NAME_REQUIRED)
