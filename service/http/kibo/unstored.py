"""Fields of Kibo's bodies that Gatehouse accepts but does not keep: a value it would drop is a 400 naming it.

Kibo's SDKs send back the objects they read, so a field holding what Gatehouse shows passes: `notes: []`,
the site's own customer set, the login's lock state, the account's contacts as they are. Anything else
would be lost without a word, and is refused instead (UNSUPPORTED_FIELD), saying what to use.
"""

from __future__ import annotations

from typing import Any

import msgspec

from service.accounts.records import Account, Contact
from service.errors import ErrorCode, FieldError, InvalidInput
from service.http.kibo.models import (
    CustomerAccount,
    CustomerAccountAndAuthInfo,
    CustomerContact,
    CustomerLoginInfo,
    CustomerPasswordInfo,
)
from service.http.kibo.render import contact_body
from service.tenants.scope import CustomerScope

_NOT_KEPT = ("notes", "attributes", "segments")
_PASSWORD_IMPORTS = ("external_password", "is_import")
_SESSION_ONLY = ("fingerprint", "region", "auth_ticket_duration_minutes", "refresh_token_duration_minutes")
_CONTACT_ECHOES = ("auditInfo", "accountId")  # read-only: what the client was shown, not what it asks for


def unsupported(field: str, problem: str) -> InvalidInput:
    return InvalidInput(
        f"{field} {problem}.", code=ErrorCode.UNSUPPORTED_FIELD, field_errors=(FieldError(field, problem),)
    )


def _refuse_set(body: msgspec.Struct, names: tuple[str, ...], problem: str, prefix: str) -> None:
    """Refuse the first of `names` that `body` sets: to anything but null, false or an empty list."""
    wire = {field.name: field.encode_name for field in msgspec.structs.fields(body)}
    for name in names:
        if getattr(body, name) not in (None, False, []):
            raise unsupported(prefix + wire[name], problem)


def check_account(account: CustomerAccount, scope: CustomerScope, current: Account | None, prefix: str = "") -> None:
    """A CustomerAccount to create (`current` None) or to change `current` into (read with its contacts when
    the body sends contacts)."""
    _refuse_set(account, _NOT_KEPT, "are not kept by Gatehouse: send [] or leave them out", prefix)
    if account.customer_set not in (None, "", scope.customer_set_code):
        raise unsupported(prefix + "customerSet", f"must be this site's customer set, {scope.customer_set_code}")
    is_locked = current.is_locked if current is not None else False  # a new login is unlocked
    if account.is_locked is not None and account.is_locked != is_locked:
        raise unsupported(prefix + "isLocked", "differs from the login's lock state: use Set-Login-Locked")
    if current is not None and account.contacts and not _same_contacts(account.contacts, current.contacts):
        raise unsupported(
            prefix + "contacts", "differ from the account's contacts: change them with the account's contacts routes"
        )


def check_password_info(
    info: CustomerAccountAndAuthInfo | CustomerLoginInfo | CustomerPasswordInfo, prefix: str = ""
) -> None:
    names = tuple(name for name in _PASSWORD_IMPORTS if hasattr(info, name))
    _refuse_set(info, names, "is not supported: Gatehouse imports no password hashes; send password", prefix)


def check_bulk_item(item: CustomerAccountAndAuthInfo, scope: CustomerScope, index: int) -> None:
    """One account of Bulk, which logs nobody in: a session's fingerprint, region and durations mean nothing."""
    prefix = f"[{index}]."
    check_password_info(item, prefix)
    _refuse_set(item, _SESSION_ONLY, "has no meaning here: Bulk logs nobody in", prefix)
    check_account(item.account or CustomerAccount(), scope, None, prefix + "account.")


def _agrees(sent: Any, shown: Any) -> bool:
    """Whether `sent` says what `shown` says; a null says nothing (an update keeps what it leaves out)."""
    if sent is None:
        return True
    if isinstance(sent, dict):
        return isinstance(shown, dict) and all(_agrees(value, shown.get(key)) for key, value in sent.items())
    if isinstance(sent, list):
        return isinstance(shown, list) and len(sent) == len(shown) and all(map(_agrees, sent, shown))
    return bool(sent == shown)


def _same_contacts(sent: list[CustomerContact], stored: tuple[Contact, ...]) -> bool:
    """The account's contacts, each once by its id, saying what GET shows of them."""
    shown: dict[int | None, dict[str, Any]] = {contact.id: contact_body(contact) for contact in stored}
    ids = [contact.id for contact in sent]
    if len(set(ids)) != len(ids) or set(ids) != set(shown):
        return False
    for contact in sent:
        body = msgspec.to_builtins(contact)
        for echo in _CONTACT_ECHOES:
            body.pop(echo, None)
        if not _agrees(body, shown[contact.id]):
            return False
    return True
