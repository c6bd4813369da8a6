"""A line made ready to import: decoded, checked as the account paths check a new account, its keys named.

Nothing here reads the database: the tenant's customer sets and sites come in a `Context`, read once a batch.
The account's columns come from the same mapping every account write uses (`account_columns`), its contacts'
types from the contacts' own check (`checked_types`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.accounts.fields import account_columns, require_login_name
from service.accounts.records import AccountChanges, ContactFields
from service.contacts.service import checked_types
from service.errors import ErrorCode, InvalidInput
from service.imports.hash_formats import FORMAT_ALIASES, HASH_FORMATS, stored_form
from service.imports.lines import ImportContact, LineFailure, decode_line
from service.magento.records import AddressExtras, CustomerExtras

_NEW_CUSTOMER_GROUP = 1  # Magento's "General" group, as for a customer registered through Magento


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Context:
    """The tenant's customer sets (by code) and sites (by customer set and code) that lines name."""

    set_ids: dict[str, int]
    default_set_id: int  # the customer set of the tenant's default site: lines that name none go there
    sites: dict[tuple[int, str], Site]


@dataclass(frozen=True, slots=True)
class PreparedContact:
    fields: ContactFields
    types: tuple[tuple[str, bool], ...]  # (Billing|Shipping, primary?), sorted by name as contacts read them
    extras: AddressExtras


@dataclass(slots=True)
class Prepared:
    line_no: int
    set_id: int
    changes: AccountChanges
    columns: dict[str, Any]  # the account's columns as a new account would have them
    contacts: tuple[PreparedContact, ...] | None  # None: an existing account keeps its contacts
    magento: CustomerExtras | None
    keys: dict[str, str]  # what the line names, by kind: 'e:' email, 'u:' user name, 'x:' externalId (normalised)
    password: tuple[str, str] | None  # (hash, declared format) as sent
    stored_hash: str | None = field(default=None)  # what customer_logins will hold, once checked

    def key(self, kind: str) -> str | None:
        return self.keys.get(kind)


def prepare(line_no: int, raw: bytes, context: Context) -> Prepared:
    """The line ready to match and write, or LineFailure."""
    line = decode_line(raw)
    set_id = context.set_ids.get(line.customer_set) if line.customer_set else context.default_set_id
    if set_id is None:
        raise LineFailure("customerSet", "names no customer set of the tenant", ErrorCode.CUSTOMER_SET_NOT_FOUND)
    if line.password_hash_format not in (*HASH_FORMATS, *FORMAT_ALIASES):
        raise LineFailure("passwordHashFormat", f"must be one of {', '.join(HASH_FORMATS)} or auto")
    try:
        columns = account_columns(line.changes, None)
        if line.password_hash is not None:
            require_login_name(columns)
    except InvalidInput as exc:
        raise failure_of(exc, "emailAddress") from None
    return Prepared(
        line_no=line_no,
        set_id=set_id,
        changes=line.changes,
        columns=columns,
        contacts=None if line.contacts is None else _contacts(line.contacts),
        magento=None if line.magento is None else _magento(line.magento, set_id, context),
        keys=_keys(columns),
        password=None if line.password_hash is None else (line.password_hash, line.password_hash_format),
    )


def failure_of(exc: InvalidInput, field: str) -> LineFailure:
    """A capability's refusal as a line's: its first field error, else the message, against `field`."""
    if exc.field_errors:
        first = exc.field_errors[0]
        return LineFailure(first.field, first.message, exc.code)
    return LineFailure(field, exc.message, exc.code)


def _keys(columns: dict[str, Any]) -> dict[str, str]:
    named = {"e:": "email_normalized", "u:": "user_name_normalized", "x:": "external_id"}
    return {kind: kind + columns[column] for kind, column in named.items() if columns[column]}


def _contacts(contacts: tuple[ImportContact, ...]) -> tuple[PreparedContact, ...]:
    """Each contact's types checked; a later primary Billing (or Shipping) contact wins over an earlier one, as
    when contacts are added one after the other."""
    types: list[dict[str, bool]] = []
    primary: dict[str, int] = {}
    for index, item in enumerate(contacts):
        try:
            checked = dict(checked_types(item.contact))
        except InvalidInput as exc:
            raise LineFailure(f"contacts[{index}].types", exc.message, exc.code) from None
        for name in (name for name, is_primary in checked.items() if is_primary):
            if name in primary:
                types[primary[name]][name] = False
            primary[name] = index
        types.append(checked)
    return tuple(
        PreparedContact(fields=item.contact.fields, types=tuple(sorted(kinds.items())), extras=item.extras)
        for item, kinds in zip(contacts, types, strict=True)
    )


def _magento(values: dict[str, Any], set_id: int, context: Context) -> CustomerExtras:
    """Magento's own fields; the store view is a site of the account's customer set, named by its code."""
    site = None
    if values["store_code"] is not None:
        site = context.sites.get((set_id, values["store_code"]))
        if site is None:
            raise LineFailure("magento.storeCode", "names no site of the customer set", ErrorCode.STORE_NOT_FOUND)
    group_id, auto_group = values["group_id"], values["disable_auto_group_change"]
    return CustomerExtras(
        store_id=site.id if site else None,
        created_in=values["created_in"] or (site.name if site else "Admin"),
        group_id=_NEW_CUSTOMER_GROUP if group_id is None else group_id,
        disable_auto_group_change=auto_group or 0,
        **{name: values[name] for name in ("prefix", "middlename", "suffix", "dob", "gender")},
    )


def stored_hashes(passwords: list[tuple[str, str]]) -> list[str | LineFailure]:
    """Each hash as customer_logins stores it, or why it cannot be; CPU-heavy for weak formats (run off the loop)."""
    stored: list[str | LineFailure] = []
    for hash_value, declared in passwords:
        try:
            stored.append(stored_form(hash_value, declared))
        except InvalidInput as exc:
            found = failure_of(exc, "passwordHash")
            found.reason = found.reason.replace(hash_value, "…")  # a report never shows the hash
            stored.append(found)
    return stored
