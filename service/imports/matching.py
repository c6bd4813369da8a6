"""Which existing account a line is, and what importing it would change.

A line is the account whose externalId it names (in its customer set); without one, the imported account with
its email (or, with no email, its user name). Running a file again therefore updates what it created. An
account the line's email or user name belongs to in any other way (made by a customer or an API, or another
customer of the old shop) is a collision: the line is reported and nothing is merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.accounts.fields import account_columns, changed_columns
from service.accounts.records import Account, Contact
from service.errors import ErrorCode
from service.imports.lines import LineFailure
from service.imports.prepare import Prepared, PreparedContact
from service.magento.records import AddressExtras, CustomerExtras


@dataclass(frozen=True, slots=True)
class Existing:
    account: Account
    set_id: int
    import_job_id: int | None  # the import that made it

    @property
    def imported(self) -> bool:
        return self.import_job_id is not None

    @property
    def has_login(self) -> bool:
        return self.account.user_id is not None


@dataclass(frozen=True, slots=True)
class Details:
    """What an update compares besides the account's own columns."""

    contacts: dict[int, list[Contact]]  # by account
    address_extras: dict[int, AddressExtras]  # by contact
    magento: dict[int, CustomerExtras]  # by account


@dataclass(slots=True)
class Update:
    prepared: Prepared
    account_id: int
    columns: dict[str, object]
    changed: list[str]  # for the audit trail: changed columns, and "contacts", "magento", "login"
    contacts: bool = field(default=False)  # replace the contacts with the line's
    magento: bool = field(default=False)
    login: bool = field(default=False)  # the account gets its first login, with the imported hash


Found = dict[tuple[int, str], list[Existing]]  # by (customer set id, key)


def match(line: Prepared, found: Found) -> Existing | None:
    """The account this line is, None for a new one, or LineFailure for a collision."""

    def named(kind: str) -> list[Existing]:
        key = line.key(kind)
        return found.get((line.set_id, key), []) if key else []

    by_external, by_email, by_user = named("x:"), named("e:"), named("u:")
    if len(by_external) > 1:
        raise LineFailure("externalId", f"matches {len(by_external)} accounts", ErrorCode.CONFLICT)
    target = by_external[0] if by_external else None
    if target is None:
        target = by_email[0] if by_email else (by_user[0] if by_user and not by_email and not line.key("e:") else None)
        if target is not None and (not target.imported or _other_external_id(line, target)):
            field_name, code = (
                ("emailAddress", ErrorCode.EMAIL_TAKEN) if by_email else ("userName", ErrorCode.USERNAME_TAKEN)
            )
            raise _collision(field_name, code, target)
    _only_for(target, by_email, "emailAddress", ErrorCode.EMAIL_TAKEN)
    _only_for(target, by_user, "userName", ErrorCode.USERNAME_TAKEN)
    return target


def _other_external_id(line: Prepared, target: Existing) -> bool:
    return line.key("x:") is not None and target.account.external_id is not None


def _only_for(target: Existing | None, owners: list[Existing], field_name: str, code: ErrorCode) -> None:
    for owner in owners:
        if target is None or owner.account.id != target.account.id:
            raise _collision(field_name, code, owner)


def _collision(field_name: str, code: ErrorCode, owner: Existing) -> LineFailure:
    return LineFailure(field_name, f"belongs to another account ({owner.account.id}); accounts are never merged", code)


def compare(line: Prepared, target: Existing, details: Details) -> Update | None:
    """What importing the line into `target` changes; None when nothing."""
    columns = account_columns(line.changes, target.account)
    update = Update(line, target.account.id, columns, changed_columns(columns, target.account))
    if line.contacts is not None:
        current = details.contacts.get(target.account.id, [])
        update.contacts = line.contacts != tuple(_as_prepared(c, details.address_extras) for c in current)
    update.magento = line.magento is not None and line.magento != details.magento.get(target.account.id)
    update.login = line.stored_hash is not None and not target.has_login
    update.changed += [name for name in ("contacts", "magento", "login") if getattr(update, name)]
    return update if update.changed else None


def _as_prepared(contact: Contact, extras: dict[int, AddressExtras]) -> PreparedContact:
    return PreparedContact(
        fields=contact.fields,
        types=tuple((t.name, t.is_primary) for t in contact.types),
        extras=extras.get(contact.id, AddressExtras()),
    )
